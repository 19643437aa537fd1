using System.Diagnostics;
using Gantry.Proxy.Control;

namespace Gantry.Proxy.Tests.Control;

/// <summary>The wait for a process that is not the waiter's child (a spare waits for its router): over when the process ends, or at once when cancelled.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ProcessEndTests
{
    private static Process Sleeper() => Process.Start(new ProcessStartInfo("sleep", "30") { UseShellExecute = false })!;

    [Fact(Timeout = 20_000)]
    public async Task WaitAsync_IsOverWhenTheProcessEnds()
    {
        using var sleeper = Sleeper();
        var wait = ProcessEnd.WaitAsync(sleeper.Id, TimeProvider.System, TestContext.Current.CancellationToken);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        wait.IsCompleted.Should().BeFalse("the process still runs");

        sleeper.Kill();
        await wait.WaitAsync(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 20_000)]
    public async Task WaitAsync_Cancelled_EndsAtOnce_NotAtTheNextLook()
    {
        // The waiting thread sleeps in poll(2) with no timeout, woken by the cancellation itself: a thread that woke
        // every 500 ms to look for one would end up to half a second late (and cost a wake-up twice a second at rest).
        using var sleeper = Sleeper();
        try
        {
            for (var attempt = 0; attempt < 3; attempt++)
            {
                using var cts = new CancellationTokenSource();
                var wait = ProcessEnd.WaitAsync(sleeper.Id, TimeProvider.System, cts.Token);
                await Task.Delay(100 + (attempt * 130), TestContext.Current.CancellationToken);
                var clock = Stopwatch.StartNew();
                await cts.CancelAsync();
                var act = () => wait.WaitAsync(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
                await act.Should().ThrowAsync<OperationCanceledException>();
                clock.Elapsed.Should().BeLessThan(TimeSpan.FromMilliseconds(200), "attempt {0} was cancelled while the process ran (a look every 500 ms would end it 140-400 ms late)", attempt);
            }
        }
        finally
        {
            sleeper.Kill();
        }
    }
}
