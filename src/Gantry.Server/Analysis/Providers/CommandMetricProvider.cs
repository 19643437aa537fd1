using System.Globalization;
using Gantry.Core.Analysis;

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
        var environment = request.Target.Placeholders.ToDictionary(p => "GANTRY_" + p.Key.ToUpperInvariant(), p => p.Value, StringComparer.Ordinal);
        var shown = string.Join(' ', args);
        var run = await Programs.ProgramRunner.RunAsync(args, query.Shell, workingDirectory, environment, query.Timeout, ct);
        if (run.Error is { } error)
        {
            return MetricValue.Failed(error);
        }

        if (query.Value == CommandValueSource.ExitCode)
        {
            return MetricValue.Of(run.ExitCode);
        }

        if (run.ExitCode != 0)
        {
            var why = run.LastErrorLine;
            return MetricValue.Failed(string.Create(CultureInfo.InvariantCulture, $"{shown} exited with code {run.ExitCode}{(why.Length > 0 ? ": " + why : string.Empty)}"));
        }

        var output = run.Stdout;
        var last = output.Trim().Split('\n').LastOrDefault()?.Trim() ?? string.Empty;
        return double.TryParse(last, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? MetricValue.Of(value)
            : MetricValue.Failed($"{shown} printed '{(last.Length > 40 ? last[..40] + "..." : last)}', not a number");
    }
}
