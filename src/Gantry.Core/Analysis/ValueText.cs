using System.Globalization;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Analysis;

/// <summary>Measured values as people read them: ratios as percentages, durations (seconds) in milliseconds.</summary>
public static class ValueText
{
    public static string Format(double value, QuantityKind kind) => double.IsInfinity(value) ? (value > 0 ? "+Inf" : "-Inf") : kind switch
    {
        QuantityKind.Ratio => (value * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%",
        QuantityKind.Duration => Milliseconds(value),
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    /// <summary>A signed difference, such as <c>+113 ms</c>.</summary>
    public static string WithSign(double value, QuantityKind kind) => (value >= 0 ? "+" : "-") + Format(Math.Abs(value), kind);

    /// <summary>Milliseconds without the unit (for intervals such as <c>[96, 130] ms</c>).</summary>
    public static string Number(double value, QuantityKind kind) => kind switch
    {
        QuantityKind.Duration => (value * 1000).ToString(Math.Abs(value) < 0.01 ? "0.0" : "0", CultureInfo.InvariantCulture),
        QuantityKind.Ratio => (value * 100).ToString("0.00", CultureInfo.InvariantCulture),
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    public static string Unit(QuantityKind kind) => kind switch { QuantityKind.Duration => " ms", QuantityKind.Ratio => "%", _ => string.Empty };

    public static string Milliseconds(double seconds) =>
        (seconds * 1000).ToString(Math.Abs(seconds) < 0.01 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms";
}
