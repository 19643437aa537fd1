using System.Diagnostics;
using System.Globalization;

namespace Gantry.Server.Programs;

/// <summary>How a program ended: its exit code and output, or why it could not run or finish (<see cref="Error"/>).</summary>
public sealed record ProgramResult(int ExitCode, string Stdout, string Stderr, string? Error)
{
    /// <summary>The last non-empty line of standard error, to say why a program failed.</summary>
    public string LastErrorLine => Stderr.Trim().Split('\n').LastOrDefault(l => l.Length > 0)?.Trim() ?? string.Empty;
}

/// <summary>Runs a program from an argument list (through /bin/sh -c only when asked), with a timeout that kills its process tree.</summary>
public static class ProgramRunner
{
    public static async Task<ProgramResult> RunAsync(IReadOnlyList<string> args, bool shell, string workingDirectory, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, CancellationToken ct)
    {
        var info = shell
            ? new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", string.Join(' ', args) } }
            : new ProcessStartInfo(args[0]);
        if (!shell)
        {
            foreach (var a in args.Skip(1))
            {
                info.ArgumentList.Add(a);
            }
        }

        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.WorkingDirectory = workingDirectory;
        foreach (var (key, text) in environment)
        {
            info.Environment[key] = text;
        }

        var shown = string.Join(' ', args);
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new ProgramResult(-1, string.Empty, string.Empty, $"{shown}: cannot start: {ex.Message}");
        }

        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            return new ProgramResult(-1, string.Empty, string.Empty, $"{shown} did not finish within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }

        return new ProgramResult(process.ExitCode, await stdout, await stderr, null);
    }
}
