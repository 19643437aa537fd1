using System.Globalization;

namespace Gantry.Core.Manifest.Values;

/// <summary>What a measured value is: a plain number, a ratio (written as %), or a duration.</summary>
public enum QuantityKind
{
    Number,
    Ratio,
    Duration,
}

/// <summary>
/// A typed number from a condition. The canonical <see cref="Value"/> is in SI form: ratios as fractions
/// (1% is 0.01) and durations in seconds (200ms is 0.2); plain numbers as written.
/// </summary>
public readonly record struct Quantity(double Value, QuantityKind Kind)
{
    public static ParseError? TryParse(string text, out Quantity value)
    {
        value = default;
        var s = text.Trim();
        if (s.Length == 0)
        {
            return new ParseError(0, "expected a number such as 1%, 200ms or 0.5");
        }

        if (s.EndsWith('%'))
        {
            var pe = Percentage.TryParse(s, out var p);
            value = new Quantity(p.Fraction, QuantityKind.Ratio);
            return pe;
        }

        var end = 0;
        while (end < s.Length && (char.IsAsciiDigit(s[end]) || s[end] is '.' or '-' or '+' or 'e' or 'E'))
        {
            end++;
        }

        if (end == s.Length)
        {
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || double.IsNaN(n) || double.IsInfinity(n))
            {
                return new ParseError(0, $"'{s}' is not a number");
            }

            value = new Quantity(n, QuantityKind.Number);
            return null;
        }

        var de = DurationSyntax.TryParse(s, out var d);
        if (de is not null)
        {
            return new ParseError(de.Offset, $"expected a number, a percentage (1%) or a duration (200ms), got '{s}'");
        }

        value = new Quantity(d.TotalSeconds, QuantityKind.Duration);
        return null;
    }

    public static string KindName(QuantityKind kind) => kind switch
    {
        QuantityKind.Ratio => "a percentage",
        QuantityKind.Duration => "a duration",
        _ => "a plain number",
    };

    public override string ToString() => Kind switch
    {
        QuantityKind.Ratio => new Percentage(Value * 100).ToString(),
        QuantityKind.Duration => Value < 1 && Value > 0
            ? (Value * 1000).ToString("0.###", CultureInfo.InvariantCulture) + "ms"
            : DurationSyntax.Format(TimeSpan.FromSeconds(Value)),
        _ => Value.ToString("0.#########", CultureInfo.InvariantCulture),
    };
}
