using Gantry.Core.Manifest;

namespace Gantry.Core.Analysis;

/// <summary>
/// Whose metric: a group of a service's instances (canary, baseline, preview), the version it runs, and the
/// set serving it (the router's backend group: the version, or VERSION~baseline for a fresh baseline).
/// </summary>
public sealed record MetricTarget(string Service, string Environment, string Group, string Version, string Route, string? Set = null)
{
    /// <summary>The router's backend group of the target.</summary>
    public string Backend => Set ?? Version;

    /// <summary>The values query placeholders expand to.</summary>
    public IReadOnlyDictionary<string, string> Placeholders => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["service"] = Service,
        ["environment"] = Environment,
        ["group"] = Group,
        ["version"] = Version,
        ["set"] = Backend,
    };
}

/// <summary>
/// One query of one metric for one target, over the last <see cref="Window"/>; <see cref="WantSamples"/> asks for raw
/// values for the judge. <see cref="Incremental"/> asks for only what is new since the position <see cref="After"/>
/// that the previous answer gave (the whole window the first time), so that a sequential judge never sees a
/// request twice.
/// </summary>
public sealed record MetricRequest(MetricQuery Query, MetricTarget Target, TimeSpan Window, bool WantSamples = false, bool Incremental = false, long? After = null);

/// <summary>Requests and errors counted by a provider: what the sequential judge of error rates needs.</summary>
public sealed record MetricCounts(long Trials, long Events);

/// <summary>
/// What a provider measured: a value (and, where it has them, raw samples and counts for the statistical judge,
/// and for an incremental request the position to ask from next time), or the reason it could not measure. A failed query is a value with an error, never an exception.
/// </summary>
public sealed record MetricValue(double? Value, IReadOnlyList<double>? Samples, string? Error, MetricCounts? Counts = null, long? Through = null)
{
    public static MetricValue Of(double value, IReadOnlyList<double>? samples = null) => new(value, samples, null);

    public static MetricValue Failed(string error) => new(null, null, error);

    /// <summary>Measured, but there was nothing to measure (no requests, an empty result).</summary>
    public static MetricValue NoData(string why) => new(null, [], why);

    /// <summary>A number was measured: +Inf and -Inf are values (a quantile past the largest bucket); NaN is no data.</summary>
    public bool HasValue => Value is { } v && !double.IsNaN(v);
}

/// <summary>A source of measurements, chosen by name in the manifest (<c>builtin</c>, <c>prometheus</c>, <c>web</c>, <c>command</c>).</summary>
public interface IMetricProvider
{
    string Name { get; }

    Task<MetricValue> QueryAsync(MetricRequest request, CancellationToken ct);
}
