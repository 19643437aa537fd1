using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Manifest;

/// <summary>What a failed analysis does to its rollout.</summary>
public enum AnalysisFailureAction
{
    /// <summary>All traffic back to the stable release at once.</summary>
    Abort,

    /// <summary>Keep the current split and pause for a person (for releases whose changes cannot go back).</summary>
    Hold,
}

public sealed record AnalysisRef(ValueList<string> Templates, AnalysisFailureAction OnFailure = AnalysisFailureAction.Abort);

public sealed record AnalysisTemplate(
    string Name,
    TimeSpan Interval,
    int? Count,
    TimeSpan InitialDelay,
    int FailureLimit,
    int InconclusiveLimit,
    int ConsecutiveErrorLimit,
    int? ConsecutiveSuccessLimit,
    ScoreThresholds Scores,
    ValueList<MetricSpec> Metrics);

public sealed record ScoreThresholds(double Pass, double Marginal)
{
    public static ScoreThresholds Default { get; } = new(95, 75);
}

public sealed record MetricSpec(
    string Name,
    MetricQuery Query,
    Condition? FailWhen,
    Condition? PassWhen,
    bool DryRun,
    JudgeOptions? Judge);

/// <summary>What to measure and with which provider.</summary>
public abstract record MetricQuery
{
    public abstract string Provider { get; }
}

public enum BuiltinMetric
{
    RequestRate,
    ErrorRate,
    SuccessRate,
    LatencyP50,
    LatencyP90,
    LatencyP95,
    LatencyP99,
    Latency,

    /// <summary>The group's instances' CPU use as a share of their limit (or of one core), from the runtime: a reading now.</summary>
    Cpu,

    /// <summary>The group's instances' memory in use, in MiB, from the runtime: a reading now.</summary>
    Memory,
}

public sealed record BuiltinQuery(BuiltinMetric Metric, TimeSpan? Window) : MetricQuery
{
    public override string Provider => "builtin";

    /// <summary>Whether the runtime measures it (the instances' resources) rather than the router (their requests).</summary>
    public bool OfInstances => Metric is BuiltinMetric.Cpu or BuiltinMetric.Memory;

    /// <summary>The percentile a judge on this query compares (null: the whole distribution, by rank).</summary>
    public double? JudgedQuantile => Metric switch
    {
        BuiltinMetric.LatencyP50 => 0.50,
        BuiltinMetric.LatencyP90 => 0.90,
        BuiltinMetric.LatencyP95 => 0.95,
        BuiltinMetric.LatencyP99 => 0.99,
        _ => null,
    };

    /// <summary>The kind of value the router measures for this metric.</summary>
    public QuantityKind ValueKind => Metric switch
    {
        BuiltinMetric.RequestRate or BuiltinMetric.Memory => QuantityKind.Number,
        BuiltinMetric.ErrorRate or BuiltinMetric.SuccessRate or BuiltinMetric.Cpu => QuantityKind.Ratio,
        _ => QuantityKind.Duration,
    };
}

public sealed record PrometheusQuery(Uri Address, string Query, TimeSpan Timeout) : MetricQuery
{
    public override string Provider => "prometheus";
}

public sealed record WebQuery(Uri Url, string JsonPath, ValueList<KeyValuePair<string, string>> Headers, TimeSpan Timeout) : MetricQuery
{
    public override string Provider => "web";
}

public enum CommandValueSource
{
    Stdout,
    ExitCode,
}

public sealed record CommandQuery(ValueList<string> Args, bool Shell, CommandValueSource Value, TimeSpan Timeout) : MetricQuery
{
    public override string Provider => "command";
}

public enum JudgeDirection
{
    Increase,
    Decrease,
    Either,
}

public enum OutlierHandling
{
    Keep,
    Remove,
}

/// <summary>Options of the statistical canary-vs-baseline judge for one metric.</summary>
public sealed record JudgeOptions(
    JudgeDirection Direction,
    double Confidence,
    Percentage? AllowedIncrease,
    Percentage? CriticalIncrease,
    bool MustHaveData,
    OutlierHandling Outliers,
    double Weight,
    bool Critical,
    TimeSpan? Tolerance = null,
    JudgeMethod Method = JudgeMethod.Fixed,
    double Alpha = 0.05);

/// <summary>How the judge decides: a fixed-horizon test at each look, or an anytime-valid sequential test.</summary>
public enum JudgeMethod
{
    /// <summary>Mann-Whitney U or a percentile bootstrap on each look's window: valid for one look, not for many.</summary>
    Fixed,

    /// <summary>Time-uniform bands and e-values over everything seen so far: the false-alarm rate holds at every look.</summary>
    Sequential,
}
