using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Cluster;

/// <summary>
/// The loops that act on shared state (the reconciler, the commit followers, notifications, queued deploys,
/// automatic promotion, escalation, the orphan sweeper), run only while this replica leads: started in order when it
/// takes the lead, stopped in reverse order when it loses it, so that the runtime (first in the list) lets go of the
/// instances last, after the reconciler has stopped.
/// </summary>
public sealed partial class LeaderOnlyServices(Leadership leadership, IReadOnlyList<IHostedService> services, TimeProvider time, ILogger<LeaderOnlyServices> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;
    private bool running;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        loop = Task.Run(() => RunAsync(stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await leadership.UntilAsync(true, time, ct);
                // Marked first: services started before a cancellation are stopped too (stopping one never started is a no-op).
                running = true;
                foreach (var service in services)
                {
                    await service.StartAsync(ct);
                }

                LogStarted(logger, leadership.Replica, services.Count);
                await leadership.UntilAsync(false, time, ct);
                await StopServicesAsync(CancellationToken.None);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task StopServicesAsync(CancellationToken ct)
    {
        if (!running)
        {
            return;
        }

        running = false;
        foreach (var service in services.Reverse())
        {
            await service.StopAsync(ct);
        }

        LogStopped(logger, leadership.Replica);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        if (loop is not null)
        {
            await loop;
        }

        await StopServicesAsync(cancellationToken);
    }

    public void Dispose() => stopping.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "replica {Replica} leads: {Count} loops started")]
    private static partial void LogStarted(ILogger logger, string replica, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "replica {Replica} stopped leading: its loops stopped, its instances let go (they keep serving)")]
    private static partial void LogStopped(ILogger logger, string replica);
}

/// <summary>Holds the runtime's instances while this replica leads; lets them go (still running, still recorded) when it stops leading.</summary>
public sealed class RuntimeCustody(Core.Runtime.IRuntime runtime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => runtime.ReleaseAsync(cancellationToken);
}
