using Gantry.Core.Runtime;

namespace Gantry.Runtime.Process;

/// <summary>Stopping sets: taken out under the gate at once, their instances stopped outside it.</summary>
public sealed partial class ProcessRuntime
{
    /// <summary>
    /// Takes the set out at once and stops its instances (SIGTERM, up to each one's stop timeout, then SIGKILL) outside
    /// the gate: other sets are ensured, observed and stopped meanwhile. Returns when the instances have gone.
    /// </summary>
    public async Task StopAsync(InstanceSetId setId, CancellationToken ct)
    {
        Task stop;
        await gate.WaitAsync(ct);
        try
        {
            if (!stopping.TryGetValue(setId, out var already))
            {
                sets.Remove(setId, out var instances);
                unclaimed.Remove(setId, out var records);
                if (instances is null && records is null)
                {
                    return;
                }

                already = stopping[setId] = StopTakenAsync(setId, instances ?? [], records ?? []);
            }

            stop = already;
        }
        finally
        {
            gate.Release();
        }

        await stop.WaitAsync(ct);
    }

    private async Task StopTakenAsync(InstanceSetId setId, List<ManagedInstance> instances, List<AdoptionRecord> records)
    {
        // Registered under the gate by the caller before any of this runs.
        await Task.Yield();
        try
        {
            var spec = instances.Count > 0 ? instances[0].Spec : null;
            // A warm retained release keeps running, out of traffic and unsupervised, until a rollback takes it back or pruning removes it.
            await Task.WhenAll(instances.Select(i => spec is not null && launcher?.KeepsRunning(spec) == true ? i.ReleaseAsync(forget: true).AsTask() : i.DisposeAsync().AsTask()));
            await Task.WhenAll(records.Select(r => StopRecordedAsync(r, CancellationToken.None)));
            // Its instances scaled away before (a rolling update's) may still take their stop timeout: the set has
            // gone, and its containers may be pruned, only once they have too.
            await RetirementsAsync(setId);
            if (spec is not null && launcher is not null)
            {
                // Under the gate, as before: a rollback may be taking a retained release back at this moment. Sets
                // other than this one still stopping are left to their own stop (their containers are being removed).
                await gate.WaitAsync(CancellationToken.None);
                try
                {
                    await launcher.PruneAsync(spec, sets.Keys.Concat(stopping.Keys.Where(s => s != setId)).ToHashSet(), CancellationToken.None);
                }
                finally
                {
                    gate.Release();
                }
            }
        }
        finally
        {
            await gate.WaitAsync(CancellationToken.None);
            try
            {
                stopping.Remove(setId);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>Where a scale-down that failed is told (nobody waits for one): the server logs it.</summary>
    public Action<InstanceSetId, Exception>? RetirementFailed { get; init; }

    /// <summary>Scale-downs under way, by set: a stop of the set and the runtime's disposal wait for them.</summary>
    private readonly Dictionary<Task, InstanceSetId> retirements = [];

    private void Track(InstanceSetId setId, Task retirement)
    {
        lock (retirements)
        {
            retirements.Add(retirement, setId);
        }

        _ = retirement.ContinueWith(
            done =>
            {
                if (done.Exception is { } failed)
                {
                    RetirementFailed?.Invoke(setId, failed.GetBaseException());
                }

                lock (retirements)
                {
                    retirements.Remove(done);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Waits for the scale-downs under way (of one set, or all); their failures are told by <see cref="RetirementFailed"/>.</summary>
    private async Task RetirementsAsync(InstanceSetId? of = null)
    {
        Task[] pending;
        lock (retirements)
        {
            pending = [.. retirements.Where(r => of is null || r.Value == of).Select(r => r.Key)];
        }

        await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)));
    }

    /// <summary>Stops instances scaled away (taken out of their set under the gate), then gives their indexes back.</summary>
    private async Task RetireAsync(InstanceSetId setId, List<ManagedInstance> extras)
    {
        if (extras.Count == 0)
        {
            return;
        }

        try
        {
            await Task.WhenAll(extras.Select(e => e.DisposeAsync().AsTask()));
        }
        finally
        {
            await gate.WaitAsync(CancellationToken.None);
            try
            {
                if (retiring.TryGetValue(setId, out var leaving) && leaving.RemoveAll(extras.Contains) > 0 && leaving.Count == 0)
                {
                    retiring.Remove(setId);
                }
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>A predecessor's instance nobody claimed: SIGTERM, then SIGKILL to its session; its record goes.</summary>
    private async Task StopRecordedAsync(AdoptionRecord record, CancellationToken ct)
    {
        using var process = InstanceProcess.Adopt(record);
        process.Signal(15);
        using var wait = new CancellationTokenSource(UnclaimedStopTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(wait.Token, ct);
        try
        {
            await process.WaitForExitAsync(time, linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.KillTree();
        }

        if (recordFolder is not null)
        {
            File.Delete(AdoptionRecord.PathOf(recordFolder, record.Id));
        }
    }
}
