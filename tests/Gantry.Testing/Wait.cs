using System.Diagnostics;

namespace Gantry.Testing;

/// <summary>Polls a condition every 100 ms until it holds; a timeout fails with what was awaited.</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds:F0} s for: {what}");
            }

            await Task.Delay(100);
        }
    }
}
