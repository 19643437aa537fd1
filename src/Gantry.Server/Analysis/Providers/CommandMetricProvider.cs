using System.Diagnostics;
using System.Globalization;
using Gantry.Core.Analysis;
using Gantry.Core.Manifest;

namespace Gantry.Server.Analysis.Providers;

/// <summary>
/// Runs a program (arguments as given, no shell unless <c>shell: true</c>) and reads a number from the last
/// line of its output, or takes its exit code. A program that fails or times out is an Error measurement.
/// </summary>
public sealed class CommandMetricProvider(string workingDirectory) : IMetricProvider
{
    public string Name => "command";

    public async Task<MetricValue> QueryAsync(MetricRequest request, CancellationToken ct)
    {
        if (request.Query is not CommandQuery query || query.Args.IsEmpty)
        {
            return MetricValue.Failed($"the command provider cannot run a {request.Query.Provider} query");
        }

        var args = query.Args.Select(a => Placeholders.Expand(a, request.Target.Placeholders)).ToList();
        var info = query.Shell
            ? new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", string.Join(' ', args) } }
            : new ProcessStartInfo(args[0]);
        if (!query.Shell)
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
        foreach (var (key, text) in request.Target.Placeholders)
        {
            info.Environment["GANTRY_" + key.ToUpperInvariant()] = text;
        }

        var shown = string.Join(' ', args);
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return MetricValue.Failed($"{shown}: cannot start: {ex.Message}");
        }

        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(query.Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            return MetricValue.Failed($"{shown} did not finish within {query.Timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }

        var output = await stdout;
        var errors = await stderr;
        if (query.Value == CommandValueSource.ExitCode)
        {
            return MetricValue.Of(process.ExitCode);
        }

        if (process.ExitCode != 0)
        {
            var why = errors.Trim().Split('\n').LastOrDefault(l => l.Length > 0) ?? string.Empty;
            return MetricValue.Failed(string.Create(CultureInfo.InvariantCulture, $"{shown} exited with code {process.ExitCode}{(why.Length > 0 ? ": " + why : string.Empty)}"));
        }

        var last = output.Trim().Split('\n').LastOrDefault()?.Trim() ?? string.Empty;
        return double.TryParse(last, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? MetricValue.Of(value)
            : MetricValue.Failed($"{shown} printed '{(last.Length > 40 ? last[..40] + "..." : last)}', not a number");
    }
}
