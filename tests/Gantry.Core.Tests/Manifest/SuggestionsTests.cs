using Gantry.Core.Manifest;

namespace Gantry.Core.Tests.Manifest;

public sealed class SuggestionsTests
{
    [Theory(Timeout = 5_000)]
    [InlineData("replica", "replicas")]
    [InlineData("setWieght", "setWeight")]
    [InlineData("Thurs", "Thu")]
    [InlineData("LISTEN", "listen")]
    [InlineData("helth", "health")]
    [InlineData("zzzzzz", null)]
    [InlineData("x", null)]
    public void Closest_Misspelling_SuggestsTheIntendedWord(string input, string? expected)
    {
        Suggestions.Closest(input, ["replicas", "setWeight", "Mon", "Thu", "listen", "health", "process"]).Should().Be(expected);
    }

    [Theory(Timeout = 5_000)]
    [InlineData("abc", "abc", 0)]
    [InlineData("abc", "acb", 1)]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("", "abc", 3)]
    public void Distance_Pairs_AreOptimalAlignment(string a, string b, int expected)
    {
        Suggestions.Distance(a, b).Should().Be(expected);
    }
}
