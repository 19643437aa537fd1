using Gantry.Core.Cluster;
using Gantry.Core.Traffic;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Cluster;

/// <summary>
/// On every replica, leader or not: gives this machine's router the table the leader published, reads it back, and
/// reports in the store which table it has in force (or why not) and that this replica is alive, every second and
/// at once on a change. The leader counts a split as in force once every live replica reported its table
/// (<see cref="FleetRouter"/>). A router that already has the table (the leader's own, or one shared with the
/// leader on one machine) is only read back.
/// </summary>
public sealed partial class RouterFeed(ITrafficRouter local, IFleetStore fleet, Leadership leadership, TimeProvider time, ILogger<RouterFeed> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RouterTimeout = TimeSpan.FromSeconds(1);

    private ReplicaReport? reported;
    private string? storeError;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PassAsync(stoppingToken);
                storeError = null;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && Storage.Sql.StoreFailure.Of(ex) is { } reason)
            {
                if (storeError is null)
                {
                    LogStoreDown(logger, reason);
                }

                storeError = reason;
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

    private async Task PassAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var due = reported is null || now - reported.SeenAt >= Heartbeat;

        // The version only, ten times a second; the routes when it changed, when behind, and at each heartbeat (a
        // router that lost its table, restarted say, gets it back within a second).
        var version = await fleet.PublishedVersionAsync(ct);
        var table = version == 0 || (!due && reported!.TableVersion == version && reported.TableError is null) ? null : await fleet.PublishedTableAsync(ct);
        if (table is null)
        {
            if (due)
            {
                await ReportAsync(new ReplicaReport(leadership.Replica, now, reported?.TableVersion ?? 0, reported?.TableError), ct);
            }

            return;
        }

        var error = await GiveAsync(FleetRouter.Deserialize(table.Routes), table.Version, ct);

        var report = error is null
            ? new ReplicaReport(leadership.Replica, now, table.Version, null)
            : new ReplicaReport(leadership.Replica, now, reported?.TableVersion ?? 0, $"table {table.Version}: {error}");
        if (report.TableError is { } problem && problem != reported?.TableError)
        {
            LogBehind(logger, problem);
        }

        await ReportAsync(report, ct);
    }

    /// <summary>
    /// Gives the router the routes published as <paramref name="version"/> unless it has them; why it does not have
    /// them afterwards, or null (also when a table published after them is in force: the next look reads that one).
    /// </summary>
    private async Task<string?> GiveAsync(Core.ValueList<TrafficRoute> routes, long version, CancellationToken ct)
    {
        // A router that does not answer must not silence this replica: it reports the router behind, not itself gone.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(RouterTimeout);
        try
        {
            var inForce = await local.InForceAsync(bounded.Token);
            if (inForce == routes)
            {
                return null;
            }

            var result = local is IPublishedTables ordered
                ? await ordered.ApplyPublishedAsync(routes, version, follows: true, bounded.Token)
                : await local.ApplyAsync(routes, bounded.Token);
            return result.Superseded || await local.InForceAsync(bounded.Token) == routes ? null : result.Error ?? "the router has not put it in force";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"this machine's router did not answer within {RouterTimeout.TotalSeconds:0} s";
        }
    }

    private async Task ReportAsync(ReplicaReport report, CancellationToken ct)
    {
        await fleet.ReportReplicaAsync(report, ct);
        reported = report;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "this machine's router does not have the published table: {Problem}")]
    private static partial void LogBehind(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "router feed: the store cannot be reached ({Reason}); this machine's router keeps its table")]
    private static partial void LogStoreDown(ILogger logger, string reason);
}
