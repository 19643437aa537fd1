using Gantry.Core.Manifest.Values;
using NodaTime;

namespace Gantry.Core.Manifest;

/// <summary>A parsed, validated <c>gantry.yaml</c>. Invalid input never becomes a manifest.</summary>
public sealed record GantryManifest(
    ValueList<ServiceSpec> Services,
    ValueList<AnalysisTemplate> Analysis,
    ValueList<EnvironmentSpec> Environments,
    ValueList<GateSpec> Gates = default,
    IncidentPolicy? Incidents = null,
    NotificationSpec? Notifications = null)
{
    /// <summary>The incident policy in force: the manifest's, or the defaults.</summary>
    public IncidentPolicy IncidentPolicy => Incidents ?? IncidentPolicy.Default;

    public GateSpec? FindGate(string name) => Gates.FirstOrDefault(g => g.Name == name);

    public ServiceSpec? FindService(string name) => Services.FirstOrDefault(s => s.Name == name);

    public AnalysisTemplate? FindAnalysis(string name) => Analysis.FirstOrDefault(a => a.Name == name);

    public EnvironmentSpec? FindEnvironment(string name) => Environments.FirstOrDefault(e => e.Name == name);
}

/// <summary>
/// A deployable unit. <see cref="Runtime"/> is the runtime-specific section (how one instance runs: a process
/// today); <see cref="Drain"/> is the one drain setting: how long a set taken out of traffic keeps running before
/// it is stopped. The router lets requests already in an instance finish until it is gone (<see cref="RouterDrain"/>).
/// </summary>
public sealed record ServiceSpec(
    string Name,
    RuntimeSpec Runtime,
    Endpoint Listen,
    int Replicas,
    HealthSpec Health,
    StrategySpec Strategy,
    TimeSpan ProgressDeadline,
    TimeSpan Drain,
    ValueList<string> AllowVariables = default,
    StickySpec? Sticky = null,
    RateLimit? RateLimit = null,
    ServiceTls? Tls = null,
    ValueList<JobSpec> Jobs = default,
    WatchSpec? Watch = null,
    ValueList<SloSpec> Slos = default)
{
    /// <summary>The service's jobs at <paramref name="hook"/>, in the order the manifest gives them.</summary>
    public IEnumerable<JobSpec> JobsAt(JobHook hook) => Jobs.Where(j => j.At == hook);

    /// <summary>The drain when the manifest does not give one.</summary>
    public static readonly TimeSpan DefaultDrain = TimeSpan.FromSeconds(2);

    /// <summary>How long a router waits for requests in an instance that left its route, when nothing says: the default drain and stop timeout.</summary>
    public static readonly TimeSpan DefaultRouterDrain = DefaultDrain + ProcessSpec.DefaultStopTimeout;

    /// <summary>How long the router waits for requests in an instance out of traffic: its drain, then its graceful stop.</summary>
    public TimeSpan RouterDrain => Drain + Runtime.StopTimeout;
}

/// <summary>How one instance of a service runs, for one kind of runtime (<see cref="Kind"/>): the service's runtime section.</summary>
public abstract record RuntimeSpec
{
    /// <summary>The runtime that runs this section, as the manifest names it (the section's key).</summary>
    public abstract string Kind { get; }

    /// <summary>Environment variables given to every instance.</summary>
    public abstract ValueList<KeyValuePair<string, string>> Env { get; init; }

    /// <summary>Time between asking an instance to stop and killing it.</summary>
    public abstract TimeSpan StopTimeout { get; init; }
}

/// <summary>
/// Keeps a user on one side of a split: the router hashes the cookie (set on the first answer when missing) or
/// the header to a point, so a user who saw the canary keeps seeing it while its weight grows.
/// </summary>
public sealed record StickySpec(string? Cookie, string? Header);

/// <summary>Requests per second each client address may send to a service's front door, with bursts up to <see cref="Burst"/>.</summary>
public sealed record RateLimit(int RequestsPerSecond, int Burst);

/// <summary>The PEM files of a service's front-door certificate and key, as written (relative to the manifest's folder).</summary>
public sealed record ServiceTls(string CertificateFile, string KeyFile)
{
    /// <summary>The files' full paths, for a manifest read from <paramref name="folder"/>.</summary>
    public ServiceTls In(string folder) => new(Path.GetFullPath(Path.Combine(folder, CertificateFile)), Path.GetFullPath(Path.Combine(folder, KeyFile)));
}

/// <summary>How to run one instance as a local process. Texts may hold placeholders such as {version} and {port}.</summary>
public sealed record ProcessSpec(
    string Command,
    ValueList<string> Args,
    ValueList<KeyValuePair<string, string>> Env,
    string? WorkingDir,
    TimeSpan StopTimeout,
    string? RunAs = null) : RuntimeSpec
{
    public const string RuntimeKind = "process";

    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(10);

    public override string Kind => RuntimeKind;

    public override ValueList<KeyValuePair<string, string>> Env { get; init; } = Env;

    public override TimeSpan StopTimeout { get; init; } = StopTimeout;
}

public sealed record HealthSpec(ProbeSpec? Readiness, ProbeSpec? Liveness, ProbeSpec? Startup)
{
    public static HealthSpec None { get; } = new(null, null, null);
}

public sealed record ProbeSpec(string Path, TimeSpan Interval, TimeSpan Timeout, int FailureThreshold, TimeSpan InitialDelay);

/// <summary>How a new release replaces the old one.</summary>
public abstract record StrategySpec;

public sealed record RollingStrategy(CountOrPercent MaxSurge, CountOrPercent MaxUnavailable) : StrategySpec
{
    public static RollingStrategy Default { get; } = new(CountOrPercent.FromCount(1), CountOrPercent.FromCount(0));
}

public sealed record BlueGreenStrategy(
    Endpoint? PreviewListen,
    bool AutoPromotion,
    int AutoPromotionSeconds,
    TimeSpan ScaleDownDelay,
    AnalysisRef? PrePromotionAnalysis,
    AnalysisRef? PostPromotionAnalysis) : StrategySpec;

/// <summary>
/// Canary steps. <see cref="Analysis"/> runs in the background from step <see cref="AnalysisStartingStep"/>
/// (0 = the first) until the rollout ends; with <see cref="CanaryBaseline.Fresh"/> the comparison is made
/// against new instances of the stable release at the canary's size and weight.
/// </summary>
public sealed record CanaryStrategy(
    ValueList<CanaryStep> Steps,
    TimeSpan AbortScaleDownDelay,
    AnalysisRef? Analysis = null,
    int AnalysisStartingStep = 0,
    CanaryBaseline Baseline = CanaryBaseline.Stable) : StrategySpec;

/// <summary>What the canary is compared with.</summary>
public enum CanaryBaseline
{
    /// <summary>The stable set serving the rest of the traffic.</summary>
    Stable,

    /// <summary>A set of the stable release started beside the canary, at the canary's size and weight: like for like.</summary>
    Fresh,
}

/// <summary>One ordered step of a canary.</summary>
public abstract record CanaryStep;

public sealed record SetWeightStep(int Weight) : CanaryStep;

/// <summary>A pause; with no duration it waits until promoted.</summary>
public sealed record PauseStep(TimeSpan? Duration) : CanaryStep;

public sealed record AnalysisStep(AnalysisRef Analysis) : CanaryStep;

/// <summary>Routes requests that match to the canary whatever the weight; an empty list removes the route.</summary>
public sealed record SetHeaderRouteStep(ValueList<RouteMatch> Matches) : CanaryStep;

/// <summary>Copies a share of requests (optionally only matching ones) to the canary; 0 removes the mirror.</summary>
public sealed record SetMirrorStep(int Percent, ValueList<RouteMatch> Matches) : CanaryStep;

public enum MatchSource
{
    Header,
    Cookie,
}

public enum MatchKind
{
    Exact,
    Prefix,
    Regex,
}

public sealed record RouteMatch(MatchSource Source, string Name, MatchKind Kind, string Value);

public sealed record EnvironmentSpec(
    string Name,
    ValueList<KeyValuePair<string, string>> Variables,
    ValueList<ServiceOverride> Overrides,
    ApprovalPolicy? Approvals,
    ValueList<DeploymentWindow> Windows,
    ValueList<FreezeSpec> Freezes,
    PromotionSpec? Promotion,
    string? Gate = null,
    ValueList<ChecklistItem> Checklist = default,
    bool Critical = false);

/// <summary>What a rollout's incident is opened for.</summary>
public enum IncidentCause
{
    Aborted,
    RolledBack,
    Failed,

    /// <summary>The watch after promotion failed while the release kept its traffic (onFailure: incident or hold).</summary>
    WatchFailed,
}

/// <summary>A severity rule: the first whose conditions all hold gives an incident opened by a rollout its severity.</summary>
public sealed record SeverityRule(string? Environment, IncidentCause? Cause, Values.Percentage? TrafficAbove, Incidents.Severity Severity);

/// <summary>An escalation level: reached when the incident is still unacknowledged <see cref="After"/> the previous one.</summary>
public sealed record EscalationLevel(string Name, TimeSpan After, ValueList<string> Notify);

/// <summary>How incidents are graded, timed and escalated.</summary>
public sealed record IncidentPolicy(ValueList<KeyValuePair<Incidents.Severity, Incidents.SeverityTargets>> Targets, ValueList<SeverityRule> Rules, Incidents.Severity DefaultSeverity, ValueList<EscalationLevel> Escalation)
{
    public static IncidentPolicy Default { get; } = new([], [], Incidents.Severity.P2, []);

    /// <summary>What alerts from Alertmanager open and do.</summary>
    public AlertIntake Alerts { get; init; } = AlertIntake.Default;

    public Incidents.SeverityTargets TargetsOf(Incidents.Severity severity) =>
        Targets.FirstOrDefault(t => t.Key == severity).Value ?? Incidents.SeverityTargets.Default(severity);
}

/// <summary>Alerts received from Alertmanager: the labels that name a service and an environment, and the rules that grade them.</summary>
public sealed record AlertIntake(string ServiceLabel, string EnvironmentLabel, ValueList<AlertRule> Rules)
{
    public static AlertIntake Default { get; } = new("service", "environment", []);
}

/// <summary>
/// The first rule whose labels all match an alert gives the severity of the incident it opens (null: the default
/// severity) and, with <see cref="RollbackWithin"/>, rolls back the newest release of its service when that release
/// reached the environment within that long (a rollout still in progress is aborted).
/// </summary>
public sealed record AlertRule(ValueList<KeyValuePair<string, string>> Match, Incidents.Severity? Severity, TimeSpan? RollbackWithin);

/// <summary>Where notifications go.</summary>
public abstract record ReceiverSpec(string Name);

public sealed record WebhookReceiverSpec(string Name, Uri Url, ValueList<KeyValuePair<string, string>> Headers) : ReceiverSpec(Name);

public sealed record SlackReceiverSpec(string Name, Uri Url) : ReceiverSpec(Name);

public sealed record LogReceiverSpec(string Name, string Path) : ReceiverSpec(Name);

/// <summary>Events (such as incident.opened) that go to receivers, optionally only for some environments.</summary>
public sealed record SubscriptionSpec(ValueList<string> Events, ValueList<string> Receivers, ValueList<string> Environments);

/// <summary>Receivers, subscriptions, how a failing receiver is retried before the notification is dead-lettered, and message templates by event.</summary>
public sealed record NotificationSpec(ValueList<ReceiverSpec> Receivers, ValueList<SubscriptionSpec> Subscriptions, int Attempts, TimeSpan Backoff, TimeSpan Timeout, ValueList<KeyValuePair<string, string>> Templates)
{
    public ReceiverSpec? FindReceiver(string name) => Receivers.FirstOrDefault(r => r.Name == name);

    /// <summary>The manifest's message text for an event, if it has one.</summary>
    public string? TemplateFor(string kind) => Templates.FirstOrDefault(t => t.Key == kind).Value;
}

/// <summary>
/// One item of an environment's pre-deployment checklist: an automated check or a person's sign-off. A
/// rollout into the environment waits until every required item passes.
/// </summary>
public sealed record ChecklistItem(string Name, ChecklistCheck Check, bool Required, TimeSpan Timeout);

/// <summary>What a checklist item checks.</summary>
public abstract record ChecklistCheck
{
    /// <summary>The manifest's name of the kind (tls, http, tcp, command, disk, signoff).</summary>
    public abstract string Kind { get; }
}

/// <summary>The TLS certificate served at an address is valid for the host and for more than <see cref="MinDays"/> days.</summary>
public sealed record TlsCheck(Values.Endpoint Address, string? Host, int MinDays, string? CaFile) : ChecklistCheck
{
    public override string Kind => "tls";
}

/// <summary>An HTTP GET answers 2xx.</summary>
public sealed record HttpCheck(Uri Url) : ChecklistCheck
{
    public override string Kind => "http";
}

/// <summary>A TCP port accepts a connection.</summary>
public sealed record TcpCheck(Values.Endpoint Address) : ChecklistCheck
{
    public override string Kind => "tcp";
}

/// <summary>A program exits 0.</summary>
public sealed record CommandCheck(ValueList<string> Args, bool Shell) : ChecklistCheck
{
    public override string Kind => "command";
}

/// <summary>The file system holding <see cref="Path"/> has more than <see cref="MinFree"/> free.</summary>
public sealed record DiskCheck(string Path, Percentage MinFree) : ChecklistCheck
{
    public override string Kind => "disk";
}

/// <summary>A person of a role signs off.</summary>
public sealed record SignOffCheck(string Role) : ChecklistCheck
{
    public override string Kind => "signoff";
}

/// <summary>What a gate category reads: test reports, coverage reports, security scans, or a number from a JSON file.</summary>
public enum GateCategoryKind
{
    Tests,
    Coverage,
    Security,
    Custom,
}

/// <summary>
/// A quality gate: categories of criteria over the reports a build produced, each criterion passing, warning
/// (scored half) or failing; blocking and key criteria that fail block the release. <see cref="PassScore"/>
/// and <see cref="WarningScore"/> are percentages of the weighted score.
/// </summary>
public sealed record GateSpec(string Name, double PassScore, double WarningScore, ValueList<GateCategory> Categories);

public sealed record GateCategory(string Name, GateCategoryKind Kind, double Weight, bool Optional, string? JsonPath, ValueList<GateCriterion> Criteria);

/// <summary>One criterion: a measure of its category, failing when <see cref="FailWhen"/> holds, warning when <see cref="WarnWhen"/> does.</summary>
public sealed record GateCriterion(string Measure, Condition? FailWhen, Condition? WarnWhen, bool Blocking, bool Key, double Weight);

public sealed record ServiceOverride(
    string Service,
    int? Replicas,
    ValueList<KeyValuePair<string, string>> Env,
    StrategySpec? Strategy,
    Values.Endpoint? Listen = null,
    RuntimeSpec? Runtime = null);

public sealed record ApprovalPolicy(int Required, ValueList<string> From, bool NoSelfApproval, TimeSpan? Expiry);

/// <summary>A weekly window in a time zone; <see cref="To"/> before <see cref="From"/> means it crosses midnight.</summary>
public sealed record DeploymentWindow(ValueList<IsoDayOfWeek> Days, LocalTime From, LocalTime To, DateTimeZone Zone);

public enum FreezeRunningRollouts
{
    Finish,
    Hold,
}

/// <summary>A freeze: either a recurring monthly day range (which may wrap the month end) or a date range.</summary>
public sealed record FreezeSpec(
    MonthlyDays? Monthly,
    LocalDate? From,
    LocalDate? To,
    DateTimeZone Zone,
    string? Reason,
    FreezeRunningRollouts Running);

public sealed record MonthlyDays(int FromDay, int ToDay)
{
    public bool WrapsMonthEnd => ToDay < FromDay;
}

public sealed record PromotionSpec(string From, TimeSpan Soak, bool Auto);
