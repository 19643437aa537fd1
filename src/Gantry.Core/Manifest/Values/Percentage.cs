using System.Globalization;

namespace Gantry.Core.Manifest.Values;

/// <summary>A share written as <c>10%</c> or <c>0.5%</c>; <see cref="Percent"/> is 10 or 0.5.</summary>
public readonly record struct Percentage(double Percent)
{
    public double Fraction => Percent / 100.0;

    public static ParseError? TryParse(string text, out Percentage value)
    {
        value = default;
        var s = text.Trim();
        if (!s.EndsWith('%'))
        {
            return new ParseError(0, $"expected a percentage such as 10%, got '{text}'");
        }

        if (!double.TryParse(s.AsSpan(0, s.Length - 1), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var p) || double.IsNaN(p) || double.IsInfinity(p))
        {
            return new ParseError(0, $"expected a percentage such as 10%, got '{text}'");
        }

        value = new Percentage(p);
        return null;
    }

    public override string ToString() => Percent.ToString("0.###", CultureInfo.InvariantCulture) + "%";
}

/// <summary>A count or a share of a count, as Kubernetes writes maxSurge: <c>1</c> or <c>25%</c>.</summary>
public readonly record struct CountOrPercent(int? Count, Percentage? Share)
{
    public static CountOrPercent FromCount(int count) => new(count, null);

    public static CountOrPercent FromShare(Percentage share) => new(null, share);

    public bool IsZero => Count == 0 || Share?.Percent == 0;

    /// <summary>Resolves against a total; shares round up for surge and down for unavailability, as Kubernetes does.</summary>
    public int Resolve(int total, bool roundUp) =>
        Count ?? (int)(roundUp ? Math.Ceiling(total * Share!.Value.Fraction) : Math.Floor(total * Share!.Value.Fraction));

    public override string ToString() => Count?.ToString(CultureInfo.InvariantCulture) ?? Share!.Value.ToString();
}
