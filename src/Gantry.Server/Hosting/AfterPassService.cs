using Gantry.Server.Reconciler;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Hosting;

/// <summary>
/// A hosted service that works after reconcile passes: woken by <see cref="ReconcilerSignals.Passed"/> (and at
/// least every <see cref="Period"/>), it runs <see cref="RunOnceAsync"/>; a failure is logged and tried again next time.
/// </summary>
public abstract partial class AfterPassService(ReconcilerSignals signals, TimeProvider time, ILogger logger) : BackgroundService
{
    protected virtual TimeSpan Period => TimeSpan.FromSeconds(1);

    /// <summary>The time now, on the server's clock.</summary>
    protected DateTimeOffset Now => time.GetUtcNow();

    protected abstract Task RunOnceAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await signals.Passed.WaitAsync(Period, time, stoppingToken);
                await RunOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogFailed(logger, GetType().Name, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Service} failed; it runs again after the next pass")]
    private static partial void LogFailed(ILogger logger, string service, Exception ex);
}
