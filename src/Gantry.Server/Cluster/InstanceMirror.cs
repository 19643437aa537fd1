using System.Collections.Immutable;
using Gantry.Core.Runtime;
using Microsoft.Extensions.Hosting;

namespace Gantry.Server.Cluster;

/// <summary>
/// What a standby shows of the instances: the leader's observations as it records them in the store (read
/// while this replica stands by, five times a second), since its own runtime may run nothing (another machine's replica leads).
/// The leader, and a server alone, show what their runtime observes.
/// </summary>
public sealed class InstanceMirror(IRuntime runtime, IRolloutStore store, Leadership leadership, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private volatile IReadOnlyList<InstanceStatus> mirrored = [];

    /// <summary>The instances to show: observed here while this replica leads (or alone), else the leader's as stored.</summary>
    public IReadOnlyList<InstanceStatus> Observe() => leadership.Clustered && !leadership.IsLeader ? mirrored : runtime.Observe();

    /// <summary>A stored observation as the runtime would have given it.</summary>
    public static InstanceStatus From(InstanceRecord record) => new(
        record.Id,
        new InstanceSetId(record.Service, record.Environment, record.SetKey ?? record.Version),
        record.Version,
        record.Address,
        Enum.TryParse<InstancePhase>(record.Phase, out var phase) ? phase : InstancePhase.NotReady,
        record.Restarts,
        record.ProcessId,
        record.LastError,
        record.Index);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!leadership.Clustered)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            if (!leadership.IsLeader)
            {
                try
                {
                    mirrored = (await store.InstancesAsync(null, null, stoppingToken)).Select(From).ToImmutableArray();
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested && Storage.Sql.StoreFailure.Of(ex) is not null)
                {
                    // The store is away: the last view stays (health and status say the store is away).
                }
            }

            try
            {
                await Task.Delay(Interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
