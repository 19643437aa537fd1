using System.Runtime.InteropServices;
using Gantry;

// Settings for the long-running commands, read by the runtime at its first socket or the thread pool's start: the
// router runs socket continuations on its event-loop threads, the server's thread pool does not spin before it sleeps
// (21-22% of a core at rest with 200 instances, 8-10% without, in the same run; bench/README.md).
RuntimeTuning.Apply(args);

using var cancel = new CancellationTokenSource();
// A second Ctrl+C or SIGTERM while it stops ends the process at once.
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
};

// SIGTERM (systemd, docker stop, kill) stops as gracefully as Ctrl+C: a router finishes the requests in progress.
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
});

return await GantryCli.RunAsync(args, Console.Out, Console.Error, cancel.Token);
