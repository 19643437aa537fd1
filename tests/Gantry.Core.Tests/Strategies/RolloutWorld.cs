using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Strategies;

/// <summary>
/// A simulated world for the pure engine: instances become ready as soon as they are wanted (unless a
/// version is told to never be ready), analysis runs end as the test says, and time moves only by hand.
/// Every step checks the invariants a user relies on.
/// </summary>
internal sealed class RolloutWorld
{
    private readonly Dictionary<string, AnalysisPhase> analysisOutcome = [];
    private readonly HashSet<string> neverReady = [];

    public RolloutWorld(string strategyYaml, int replicas = 2, string deadline = "10m", string serviceYaml = "")
    {
        var text = $$"""
            version: 1
            services:
              web:
                process: { command: app, args: ["{port}"] }
                listen: 127.0.0.1:8080
                replicas: {{replicas}}
                health: { readiness: { path: /ready } }
                progressDeadline: {{deadline}}
            {{Indent(serviceYaml, 4)}}
                strategy:
            {{Indent(strategyYaml, 6)}}
            analysis:
              slo:
                interval: 5s
                metrics: [{ name: errors, provider: { builtin: { query: error_rate } }, failWhen: "> 1%" }]
            """;
        var loaded = ManifestLoader.LoadText(text);
        Service = loaded.Manifest?.Services[0] ?? throw new InvalidOperationException(string.Join("\n", loaded.Diagnostics));
    }

    public ServiceSpec Service { get; }

    public DateTimeOffset Now { get; private set; } = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);

    public RolloutState State { get; private set; } = null!;

    public List<RolloutEvent> Events { get; } = [];

    public List<RolloutState> History { get; } = [];

    /// <summary>Restarts seen of a version's instances.</summary>
    public Dictionary<string, int> Restarts { get; } = [];

    /// <summary>Why a version's instances cannot start at all (a missing image), when they cannot.</summary>
    public Dictionary<string, string> Unstartable { get; } = [];

    /// <summary>When set, an instance needs this long after being wanted to become ready.</summary>
    public Dictionary<string, int> ReadyLimit { get; } = [];

    private static string Indent(string text, int spaces) =>
        string.Join("\n", text.Split('\n').Select(l => new string(' ', spaces) + l));

    /// <summary>Whether the environment's pre-deployment checklist has passed, as the reconciler would observe it.</summary>
    public bool ChecklistPassed { get; set; }

    /// <summary>The freeze holding running rollouts, as the reconciler would describe it; null when none is active.</summary>
    public string? FreezeHold { get; set; }

    /// <summary>Where the rollout's approval stands, as the reconciler would observe it; null when it does not wait for one.</summary>
    public Core.Approvals.ApprovalStatus? Approval { get; set; }

    /// <summary>The rollout traffic the router has in force; it follows every decision unless <see cref="RouterLate"/>.</summary>
    public TrafficState? RouterInForce { get; set; }

    /// <summary>When set, the router takes tables but puts none in force until <see cref="RouterCatchesUp"/>.</summary>
    public bool RouterLate { get; set; }

    public void RouterCatchesUp() => RouterInForce = State.Traffic;

    public RolloutState Deploy(string version, RolloutKind kind = RolloutKind.Deploy, bool checklist = false, bool approval = false) =>
        Deploy(Release.Of(version), kind, checklist, approval);

    /// <summary>A rollback to <paramref name="version"/> that moves traffic back in steps.</summary>
    public RolloutState Rollback(string version, GradualRollback plan) => Deploy(Release.Of(version), RolloutKind.Rollback, gradual: plan);

    public RolloutState Deploy(Release release, RolloutKind kind = RolloutKind.Deploy, bool checklist = false, bool approval = false, GradualRollback? gradual = null)
    {
        var inherited = State?.Sets ?? [];
        State = RolloutEngine.Create($"r{History.Count}", Service, "production", release, kind, inherited, Now, "alice", checklist: checklist, approval: approval, gradual: gradual);
        History.Add(State);
        if (!RouterLate)
        {
            RouterInForce = State.Traffic;
        }

        return State;
    }

    public void NeverReady(string version) => neverReady.Add(version);

    /// <summary>How each job ends when asked for (true: exit 0); a job not here is still running.</summary>
    public Dictionary<string, bool> JobResults { get; } = [];

    private JobStatus? JobStatusOf(JobRequest? request) =>
        request is null ? null
        : request.Names.All(JobResults.ContainsKey)
            ? new JobStatus(request.Key, true, [.. request.Names.Select(n => new JobOutcome(n, request.Hook, State.Attempt, JobResults[n], 1, JobResults[n] ? "exited with 0" : "exited with 1", JobResults[n] ? "ok" : "relation users already exists", Now))], "done")
            : new JobStatus(request.Key, false, [], $"running {string.Join(", ", request.Names)}");

    public void Analysis(AnalysisPhase phase) => analysisOutcome[State.Analysis!.Key] = phase;

    public void Background(AnalysisPhase phase) => analysisOutcome[State.Background!.Key] = phase;

    public Observation Observe() => new(
        Now,
        State.Sets.ToDictionary(s => s.Key, s =>
        {
            var ready = neverReady.Contains(s.Key) ? 0 : Math.Min(s.Replicas, ReadyLimit.GetValueOrDefault(s.Key, int.MaxValue));
            return Unstartable.TryGetValue(s.Key, out var why)
                ? new SetHealth(0, 0, why, 0, why)
                : new SetHealth(s.Replicas, ready, neverReady.Contains(s.Key) ? "readiness probe /ready failed" : null, Restarts.GetValueOrDefault(s.Key));
        }),
        Status(State.Analysis),
        Status(State.Background),
        ChecklistPassed,
        RouterInForce,
        FreezeHold,
        Approval,
        JobStatusOf(State.Job));

    private AnalysisStatus? Status(AnalysisRequest? request) =>
        request is { Completed: false } && analysisOutcome.TryGetValue(request.Key, out var phase) ? new AnalysisStatus(request.Key, phase, "measured")
        : request is { Completed: false } ? new AnalysisStatus(request.Key, AnalysisPhase.Running, "measuring")
        : null;

    /// <summary>One reconcile: observe, decide, keep.</summary>
    public RolloutState Tick()
    {
        var decision = RolloutEngine.Next(Service, State, Observe());
        Keep(decision);
        return State;
    }

    /// <summary>Ticks until nothing changes (at most 50 times).</summary>
    public RolloutState Settle()
    {
        for (var i = 0; i < 50; i++)
        {
            var before = State;
            Tick();
            if (before == State)
            {
                break;
            }
        }

        return State;
    }

    /// <summary>Time passes with no reconcile of this target (the reconciler is busy elsewhere, or asleep until its timer).</summary>
    public void Wait(TimeSpan by) => Now += by;

    public RolloutState Advance(TimeSpan by)
    {
        Now += by;
        return Settle();
    }

    public CommandResult Command(CommandKind kind, string? reason = null)
    {
        var result = RolloutEngine.Apply(Service, State, new RolloutCommand(kind, "alice", reason), Now);
        if (result.Decision is { } d)
        {
            Keep(d);
        }

        return result;
    }

    private void Keep(Decision decision)
    {
        if (decision.State.Revision < State.Revision)
        {
            throw new InvalidOperationException("revision went backwards");
        }

        State = decision.State;
        Events.AddRange(decision.Events);
        if (!RouterLate)
        {
            RouterInForce = State.Traffic;
        }

        CheckInvariants();
    }

    /// <summary>Ready instances serving traffic, by set (version, or VERSION~baseline), as the router would see them.</summary>
    public Dictionary<string, int> Serving()
    {
        var o = Observe();
        return TrafficGroups.Of(State, s => Math.Min(o.Of(s.Key).Ready, s.Routed))
            .Where(g => g.Weight > 0)
            .ToDictionary(g => g.Set.Key, g => Math.Min(o.Of(g.Set.Key).Ready, g.Set.Routed));
    }

    /// <summary>The traffic split by set, as the router would get it.</summary>
    public Dictionary<string, int> Weights()
    {
        var o = Observe();
        return TrafficGroups.Of(State, s => Math.Min(o.Of(s.Key).Ready, s.Routed)).ToDictionary(g => g.Set.Key, g => g.Weight);
    }

    private void CheckInvariants()
    {
        foreach (var set in State.Sets)
        {
            set.Routed.Should().BeInRange(0, set.Replicas, $"routed instances of {set.Version} run");
        }

        State.Sets.Count(s => s.Role == SetRole.Stable).Should().BeLessThanOrEqualTo(1);
        State.Sets.Select(s => s.Key).Should().OnlyHaveUniqueItems();
        State.Traffic.CanaryWeight.Should().BeInRange(0, 100);
        (State.Traffic.CanaryWeight + State.Traffic.BaselineWeight).Should().BeLessThanOrEqualTo(100);
        TrafficGroups.Of(State, s => s.Routed).Where(g => g.Weight < 0).Should().BeEmpty();
    }
}
