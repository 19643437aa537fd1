using System.Runtime.InteropServices;
using Gantry;

// The router runs socket continuations on the event-loop threads rather than handing each to the thread pool: its
// request handling never blocks, and the hand-offs were a quarter of its CPU (bench/README.md). Set before any socket
// exists, where the runtime reads it; a value the user set wins.
if (args is ["router", ..] && Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

// SIGTERM (systemd, docker stop, kill) stops as gracefully as Ctrl+C: a router finishes the requests in progress.
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    cancel.Cancel();
});

return await GantryCli.RunAsync(args, Console.Out, Console.Error, cancel.Token);
