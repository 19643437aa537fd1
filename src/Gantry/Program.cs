using System.Runtime.InteropServices;
using Gantry;

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
