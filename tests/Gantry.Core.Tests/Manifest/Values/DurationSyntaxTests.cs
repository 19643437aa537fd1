using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Tests.Manifest.Values;

public sealed class DurationSyntaxTests
{
    [Theory(Timeout = 5_000)]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2d", 172_800_000)]
    [InlineData("0s", 0)]
    [InlineData(" 10s ", 10_000)]
    public void TryParse_ValidDuration_GivesMilliseconds(string text, double ms)
    {
        DurationSyntax.TryParse(text, out var value).Should().BeNull();
        value.TotalMilliseconds.Should().Be(ms);
    }

    [Theory(Timeout = 5_000)]
    [InlineData("", 0, "expected a duration such as 30s, 500ms or 5m")]
    [InlineData("-5s", 0, "durations cannot be negative: '-5s'")]
    [InlineData("30", 2, "the duration '30' needs a unit: ms, s, m, h or d (e.g. 30s)")]
    [InlineData("5x", 1, "unknown duration unit 'x' in '5x'; use ms, s, m, h or d")]
    [InlineData("1h30", 4, "the duration '1h30' needs a unit: ms, s, m, h or d (e.g. 1h30s)")]
    [InlineData("s", 0, "expected a duration such as 30s, 500ms or 5m, got 's'")]
    [InlineData("1..2s", 0, "expected a duration such as 30s, 500ms or 5m, got '1..2s'")]
    public void TryParse_InvalidDuration_ReportsOffsetAndMessage(string text, int offset, string message)
    {
        DurationSyntax.TryParse(text, out _).Should().Be(new ParseError(offset, message));
    }

    [Theory(Timeout = 5_000)]
    [InlineData(0, "0s")]
    [InlineData(250, "250ms")]
    [InlineData(90_000, "1m30s")]
    [InlineData(5_400_000, "1h30m")]
    public void Format_Duration_IsShortestManifestForm(double ms, string expected)
    {
        DurationSyntax.Format(TimeSpan.FromMilliseconds(ms)).Should().Be(expected);
    }
}
