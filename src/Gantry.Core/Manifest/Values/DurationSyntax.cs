using System.Globalization;
using System.Text;

namespace Gantry.Core.Manifest.Values;

/// <summary>
/// Durations as written in a manifest: one or more number+unit parts, such as <c>500ms</c>, <c>30s</c>,
/// <c>5m</c>, <c>1h</c>, <c>1h30m</c> or <c>1.5s</c>. Units: ms, s, m, h, d. Never negative.
/// </summary>
public static class DurationSyntax
{
    public static ParseError? TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var s = text.Trim();
        var lead = text.Length - text.TrimStart().Length;
        if (s.Length == 0)
        {
            return new ParseError(0, "expected a duration such as 30s, 500ms or 5m");
        }

        if (s[0] == '-')
        {
            return new ParseError(lead, $"durations cannot be negative: '{s}'");
        }

        var i = 0;
        double totalMs = 0;
        while (i < s.Length)
        {
            var numberStart = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            if (i == numberStart || !double.TryParse(s.AsSpan(numberStart, i - numberStart), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return new ParseError(lead + numberStart, $"expected a duration such as 30s, 500ms or 5m, got '{s}'");
            }

            var unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }

            var unit = s[unitStart..i];
            double? factor = unit switch
            {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => null,
            };
            if (factor is null)
            {
                return unit.Length == 0
                    ? new ParseError(lead + unitStart, $"the duration '{s}' needs a unit: ms, s, m, h or d (e.g. {s}s)")
                    : new ParseError(lead + unitStart, $"unknown duration unit '{unit}' in '{s}'; use ms, s, m, h or d");
            }

            totalMs += number * factor.Value;
        }

        if (totalMs > TimeSpan.MaxValue.TotalMilliseconds / 2)
        {
            return new ParseError(lead, $"the duration '{s}' is too long");
        }

        value = TimeSpan.FromMilliseconds(totalMs);
        return null;
    }

    /// <summary>The shortest manifest form of a duration: 1h30m, 30s, 250ms.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        var sb = new StringBuilder();
        var ms = (long)Math.Round(value.TotalMilliseconds);
        void Part(long unitMs, string unit)
        {
            if (ms >= unitMs)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{ms / unitMs}{unit}");
                ms %= unitMs;
            }
        }

        Part(86_400_000, "d");
        Part(3_600_000, "h");
        Part(60_000, "m");
        Part(1_000, "s");
        Part(1, "ms");
        return sb.ToString();
    }
}
