using Gantry.Core.Cluster;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Cluster;

/// <summary>
/// Takes and renews the control plane's lease for this replica: every second while it leads, every half second
/// while another does. A leader that cannot renew (the store is away) stops leading half a second before its lease
/// expires, so that it never drives at the same time as the replica that takes over; a server that stops gives the
/// lease up at once.
/// </summary>
public sealed partial class LeaderElector(ILeaseStore leases, Leadership leadership, TimeProvider time, ILogger<LeaderElector> logger) : BackgroundService
{
    /// <summary>How long a lease lasts without renewal: the longest a dead leader holds up a takeover.</summary>
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);

    private static readonly TimeSpan Margin = TimeSpan.FromMilliseconds(500);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var was = leadership.IsLeader;
            try
            {
                leadership.Observe(await leases.TryLeadAsync(Leadership.LeaseName, leadership.Replica, Ttl, time.GetUtcNow(), stoppingToken));
                leadership.StoreError = null;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested && Storage.Sql.StoreFailure.Of(ex) is { } reason)
            {
                if (leadership.StoreError is null)
                {
                    leadership.StoreError = $"{reason} since {time.GetUtcNow().UtcDateTime:HH:mm:ss} UTC";
                    LogUnreachable(logger, reason);
                }

                if (leadership.IsLeader && leadership.Lease is { } held && time.GetUtcNow() >= held.ExpiresAt - Margin)
                {
                    leadership.Lose();
                }
            }

            if (leadership.IsLeader != was)
            {
                LogChanged(logger, leadership.Replica, leadership.IsLeader ? "leads" : "no longer leads", leadership.Lease?.Holder ?? "nobody", leadership.Lease?.Token ?? 0);
            }

            try
            {
                await Task.Delay(leadership.IsLeader ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(500), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (leadership.IsLeader)
        {
            leadership.Lose();
            try
            {
                await leases.ReleaseLeaseAsync(Leadership.LeaseName, leadership.Replica, cancellationToken);
            }
            catch (Exception ex) when (Storage.Sql.StoreFailure.Of(ex) is not null)
            {
                // The store is away: the lease expires on its own.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "replica {Replica} {What} (lease held by {Holder}, token {Token})")]
    private static partial void LogChanged(ILogger logger, string replica, string what, string holder, long token);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the lease could not be renewed: the store {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string reason);
}
