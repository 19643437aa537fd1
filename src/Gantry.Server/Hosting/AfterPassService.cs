using Gantry.Server.Reconciler;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Hosting;

/// <summary>
/// A hosted service that works after reconcile passes: woken by <see cref="Wake"/> (the end of a pass unless
/// it says otherwise, and at least every <see cref="Period"/>; a pulse while it works or rests wakes it again at
/// once), it runs <see cref="RunOnceAsync"/>, then rests <see cref="MinInterval"/>; a failure is logged and tried
/// again next time.
/// </summary>
public abstract partial class AfterPassService(ReconcilerSignals signals, TimeProvider time, ILogger logger) : BackgroundService
{
    protected virtual TimeSpan Period => TimeSpan.FromSeconds(1);

    /// <summary>The least time between two runs, however often passes end (zero: after every pass).</summary>
    protected virtual TimeSpan MinInterval => TimeSpan.Zero;

    /// <summary>Whether it runs once as soon as it starts, before it waits for anything (it catches up on what came before).</summary>
    protected virtual bool RunsAtStart => false;

    /// <summary>What wakes the service.</summary>
    protected virtual Signal Wake => signals.Passed;

    /// <summary>The time now, on the server's clock.</summary>
    protected DateTimeOffset Now => time.GetUtcNow();

    protected abstract Task RunOnceAsync(CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var first = RunsAtStart;
        var armed = Wake.Armed;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!first)
                {
                    await Signal.WaitAsync(armed, Period, time, stoppingToken);
                }

                first = false;
                // Taken before the work: a pulse while it runs (or while it rests after) is not missed, the next wait ends at once.
                armed = Wake.Armed;
                await RunOnceAsync(stoppingToken);
                if (MinInterval > TimeSpan.Zero)
                {
                    await Task.Delay(MinInterval, time, stoppingToken);
                }
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

    [LoggerMessage(Level = LogLevel.Error, Message = "{Service} failed; it runs again shortly")]
    private static partial void LogFailed(ILogger logger, string service, Exception ex);
}
