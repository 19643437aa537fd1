using Gantry.Server.Hosting;
using Gantry.Server.Reconciler;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Promotion;

/// <summary>A service woken by a signal does not miss a pulse that came while it worked: it looks again at once, not a period later.</summary>
public sealed class AfterPassServiceTests
{
    [Fact(Timeout = 30_000)]
    public async Task APulseWhileItWorks_WakesItAgainAtOnce()
    {
        var signals = new ReconcilerSignals();
        using var service = new Looking(signals);
        await service.StartAsync(CancellationToken.None);
        try
        {
            await service.Working.Task.WaitAsync(TimeSpan.FromSeconds(10)); // its first look, at the start, is under way
            signals.Committed.Pulse(); // a commit while it looks
            service.Go.SetResult();
            await service.Again.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the period is an hour
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    private sealed class Looking(ReconcilerSignals signals) : AfterPassService(signals, TimeProvider.System, NullLogger.Instance)
    {
        private readonly ReconcilerSignals signals = signals;
        private int looks;

        public TaskCompletionSource Working { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Go { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Again { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override Signal Wake => signals.Committed;

        protected override TimeSpan Period => TimeSpan.FromHours(1);

        protected override bool RunsAtStart => true;

        protected override async Task RunOnceAsync(CancellationToken ct)
        {
            if (++looks == 1)
            {
                Working.SetResult();
                await Go.Task.WaitAsync(ct);
                return;
            }

            Again.TrySetResult();
        }
    }
}
