using System.Collections.Concurrent;
using Gantry.Core;
using Gantry.Core.Checklists;

namespace Gantry.Server.Checklists;

/// <summary>
/// Checks the pre-deployment checklists of rollouts waiting for them: every automated item is run again
/// every couple of seconds (or at once after a sign-off), sign-offs are read from the store, and the result
/// of every item is stored with the rollout. The rollout starts once every required item has passed.
/// </summary>
public sealed class ChecklistRuns(GantryManifest manifest, IChecklistStore store, ChecklistChecks checks, TimeProvider time) : IAsyncDisposable, Microsoft.Extensions.Hosting.IHostedService
{
    /// <summary>Time between two rounds of automated checks of a waiting rollout.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Run> runs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stopping = new();

    /// <summary>The items of the checklist a rollout into <paramref name="environment"/> waits for (none: it does not wait).</summary>
    public ValueList<ChecklistItem> ItemsFor(string environment) => manifest.FindEnvironment(environment)?.Checklist ?? [];

    /// <summary>Whether a waiting rollout's checklist has passed, starting its checks the first time.</summary>
    public bool Observe(RolloutState state)
    {
        if (!state.IsWaiting || !state.AwaitsChecklist)
        {
            return false;
        }

        var run = runs.GetOrAdd(Key(state), _ =>
        {
            var r = new Run(state.Id, state.Environment);
            r.Task = Task.Run(() => LoopAsync(r, stopping.Token));
            return r;
        });
        return run.Passed;
    }

    /// <summary>Checks a rollout's checklist again now (after a sign-off).</summary>
    public void Poke(string rolloutId)
    {
        foreach (var run in runs.Values.Where(r => r.RolloutId == rolloutId))
        {
            run.Wake.Pulse();
        }
    }

    /// <summary>Stops checking for rollouts that no longer wait.</summary>
    public void Keep(IEnumerable<RolloutState> states)
    {
        var keys = states.Where(s => s.IsWaiting && s.AwaitsChecklist).Select(Key).ToHashSet(StringComparer.Ordinal);
        foreach (var key in runs.Keys.Where(k => !keys.Contains(k)))
        {
            if (runs.TryRemove(key, out var run))
            {
                run.Cancel.Cancel();
            }
        }
    }

    private static string Key(RolloutState state) => $"{state.Id}/{state.Attempt}";

    /// <summary>Every item once: automated ones run (concurrently), sign-offs looked up.</summary>
    public async Task<ChecklistRecord> CheckAsync(string rolloutId, string environment, CancellationToken ct)
    {
        var items = ItemsFor(environment);
        var signOffs = (await store.SignOffsAsync(rolloutId, ct)).ToDictionary(s => s.Item, StringComparer.Ordinal);
        var results = await Task.WhenAll(items.Select(async item =>
        {
            if (item.Check is SignOffCheck signOff)
            {
                return signOffs.TryGetValue(item.Name, out var s)
                    ? new ChecklistItemResult(item.Name, item.Check.Kind, item.Required, true, $"signed off by {s.By} (role {signOff.Role})", s.At, s.By)
                    : new ChecklistItemResult(item.Name, item.Check.Kind, item.Required, false, $"waiting for a sign-off by {signOff.Role}: gantry checklist {rolloutId} --sign {item.Name}", time.GetUtcNow());
            }

            var (passed, message) = await checks.RunAsync(item, ct);
            return new ChecklistItemResult(item.Name, item.Check.Kind, item.Required, passed, message, time.GetUtcNow());
        }));
        return new ChecklistRecord(rolloutId, environment, [.. results], time.GetUtcNow());
    }

    private async Task LoopAsync(Run run, CancellationToken stop)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, run.Cancel.Token);
        var ct = linked.Token;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var record = await CheckAsync(run.RolloutId, run.Environment, ct);
                await store.SaveChecklistAsync(record, ct);
                run.Passed = record.Passed;
                if (record.Passed)
                {
                    return;
                }

                await run.Wake.WaitAsync(Interval, time, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The rollout started, was aborted, or the server is stopping.
        }
    }

    /// <summary>Runs start when a waiting rollout is first observed; nothing to do when the host starts.</summary>
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The host stops: every run ends before the store closes.</summary>
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    public async ValueTask DisposeAsync()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        await stopping.CancelAsync();
        await Task.WhenAll(runs.Values.Select(r => r.Task ?? Task.CompletedTask));
    }

    private sealed class Run(string rolloutId, string environment)
    {
        private volatile bool passed;

        public string RolloutId { get; } = rolloutId;

        public string Environment { get; } = environment;

        public bool Passed
        {
            get => passed;
            set => passed = value;
        }

        public Reconciler.Signal Wake { get; } = new();

        public CancellationTokenSource Cancel { get; } = new();

        public Task? Task { get; set; }
    }
}
