using System.Globalization;
using Gantry.Proxy.Routing;
using Microsoft.AspNetCore.Http;

namespace Gantry.Proxy.Forwarding;

/// <summary>
/// A table swap, as something to wait for: each <see cref="Hosting.Router"/> apply completes the current task and starts a
/// new one. A request held by a pause waits on it rather than polling.
/// </summary>
public sealed class TableSwaps
{
    private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next swap: take it before reading the table, so a swap in between is not missed.</summary>
    public Task Next => Volatile.Read(ref next).Task;

    public void Swapped() => Interlocked.Exchange(ref next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}

/// <summary>Holds a request while its route is paused: released with the route as the table without the pause has it, or answered 503 at the limit.</summary>
internal static class RequestHold
{
    /// <summary>The route to serve the request with once released; null when it was answered (the limit passed) or the client left.</summary>
    public static async Task<CompiledRoute?> HoldAsync(HttpContext context, CompiledRoute route, Func<CompiledTable> current, TableSwaps swaps, TimeProvider time)
    {
        var started = time.GetTimestamp();
        var pause = route.Spec.Pause!;
        while (true)
        {
            var swapped = swaps.Next;
            var now = current().Find(context.Connection.LocalPort, context.Request.Host, context.Request.Path);
            if (now is null || now.Spec.Pause is null)
            {
                return now;
            }

            var left = now.Spec.Pause.MaxWait - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = pause.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await context.Response.WriteAsync($"{route.Spec.Name}: requests are paused; held {now.Spec.Pause.MaxWait.TotalSeconds:0.###} s, try again shortly\n", context.RequestAborted);
                return null;
            }

            try
            {
                await swapped.WaitAsync(left, time, context.RequestAborted);
            }
            catch (TimeoutException)
            {
                // The limit: answered on the next turn.
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
    }
}
