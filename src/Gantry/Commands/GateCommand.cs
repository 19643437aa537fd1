using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Gantry.Api;
using Gantry.Client;
using Gantry.Core.Gates;
using Gantry.Core.Gates.Reports;
using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.FileSystemGlobbing.Abstractions;

namespace Gantry.Commands;

/// <summary><c>gantry gate evaluate</c>: reads a build's reports, has the server judge them with the manifest's gate, prints the decision.</summary>
internal static class GateCommand
{
    public static Command Create()
    {
        var gate = new Command("gate", "Quality gates: decide DEPLOY, REMEDIATE or BLOCK from a build's test, coverage and security reports.");
        gate.Subcommands.Add(Evaluate());
        gate.Subcommands.Add(Override());
        return gate;
    }

    private static Command Override()
    {
        var server = RolloutCommands.ServerOption();
        var release = new Option<string>("--release", "-r") { Description = "The release, SERVICE:VERSION.", Required = true, HelpName = "SERVICE:VERSION" };
        var name = new Option<string?>("--gate", "-g") { Description = "The gate (default: the manifest's only one).", HelpName = "GATE" };
        var reason = new Option<string>("--reason") { Description = "Why the release may go in despite the failed criteria (recorded).", Required = true, HelpName = "TEXT" };
        var output = CommonOptions.Output();
        var command = new Command("override", "Let a release the gate sent back for remediation through anyway, recorded with who and why (a BLOCK cannot be overridden).")
        {
            release, name, reason, output, server,
        };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var (service, version) = Release(parse.GetValue(release)!);
            var evaluation = await api.OverrideGateAsync(new GateOverrideRequest(service, version, parse.GetValue(reason), parse.GetValue(name)), ct);
            var o = evaluation.Override!;
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), evaluation,
                $"{evaluation.Service} {evaluation.Version}: the REMEDIATE of gate {evaluation.Gate} is overridden by {o.By}: {o.Reason}\n  {evaluation.Reason}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static Command Evaluate()
    {
        var server = RolloutCommands.ServerOption();
        var release = new Option<string>("--release", "-r") { Description = "The release judged, SERVICE:VERSION.", Required = true, HelpName = "SERVICE:VERSION" };
        var name = new Option<string?>("--gate", "-g") { Description = "The gate (default: the manifest's only one).", HelpName = "GATE" };
        var junit = Files("--junit", "JUnit XML test reports (files or globs such as 'out/**/*.xml').");
        var trx = Files("--trx", "TRX test reports (dotnet test --logger trx).");
        var coverage = Files("--coverage", "Coverage reports: Cobertura XML or LCOV.");
        var sarif = Files("--sarif", "SARIF 2.1.0 security or lint reports.");
        var json = new Option<string[]>("--json") { Description = "A custom category's JSON file, CATEGORY=FILE (repeatable).", HelpName = "CATEGORY=FILE", AllowMultipleArgumentsPerToken = false };
        var output = CommonOptions.Output();
        var command = new Command("evaluate", "Judge a release's reports with a gate; exit 0 for DEPLOY, 1 for REMEDIATE, 4 for BLOCK.")
        {
            release, name, junit, trx, coverage, sarif, json, output, server,
        };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var (service, version) = Release(parse.GetValue(release)!);
            GateEvaluationRequest request;
            try
            {
                request = new GateEvaluationRequest(
                    service,
                    version,
                    parse.GetValue(name),
                    Tests(Expand(parse.GetValue(junit), "--junit"), Expand(parse.GetValue(trx), "--trx")),
                    Coverage(Expand(parse.GetValue(coverage), "--coverage")),
                    Security(Expand(parse.GetValue(sarif), "--sarif")),
                    await CustomAsync(parse.GetValue(json) ?? [], ct));
            }
            catch (ReportException ex)
            {
                throw new ApiException(ExitCodes.BadInput, ex.Message);
            }

            var evaluation = await api.EvaluateGateAsync(request, ct);
            await RolloutCommands.WriteAsync(writer, parse.GetValue(output), evaluation, Text(evaluation, request.Tests));
            return evaluation.Decision switch
            {
                GateDecision.Deploy => ExitCodes.Success,
                GateDecision.Remediate => ExitCodes.Failed,
                _ => ExitCodes.Blocked,
            };
        }));
        return command;
    }

    private static Option<string[]> Files(string name, string description) =>
        new(name) { Description = description, HelpName = "FILE", AllowMultipleArgumentsPerToken = true };

    private static (string Service, string Version) Release(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && colon < text.Length - 1
            ? (text[..colon], text[(colon + 1)..])
            : throw new ApiException(ExitCodes.BadInput, $"--release '{text}': expected SERVICE:VERSION, such as web:2.0");
    }

    /// <summary>Files named or matched by globs; a name or glob that gives nothing is an error, never an empty report.</summary>
    internal static List<string> Expand(string[]? patterns, string option)
    {
        var files = new List<string>();
        foreach (var pattern in patterns ?? [])
        {
            if (pattern.IndexOfAny(['*', '?', '[']) < 0)
            {
                files.Add(File.Exists(pattern) ? pattern : throw new ApiException(ExitCodes.BadInput, $"{option} {pattern}: no such file"));
                continue;
            }

            // The folder before the first wildcard is the root; the rest is matched below it.
            var parts = pattern.Replace('\\', '/').Split('/');
            var fixedParts = parts.TakeWhile(p => p.IndexOfAny(['*', '?', '[']) < 0).ToList();
            var root = fixedParts.Count == 0 ? "." : string.Join('/', fixedParts) is { Length: > 0 } r ? r : "/";
            var matcher = new Matcher(StringComparison.Ordinal);
            matcher.AddInclude(string.Join('/', parts.Skip(fixedParts.Count)));
            var matched = Directory.Exists(root)
                ? matcher.Execute(new DirectoryInfoWrapper(new DirectoryInfo(root))).Files.Select(f => Path.Combine(root, f.Path)).Order(StringComparer.Ordinal).ToList()
                : [];
            if (matched.Count == 0)
            {
                throw new ApiException(ExitCodes.BadInput, $"{option} '{pattern}': no file matches");
            }

            files.AddRange(matched);
        }

        return files;
    }

    private static T Read<T>(string file, Func<string, Stream, T> reader)
    {
        using var stream = File.OpenRead(file);
        return reader(file, stream);
    }

    private static TestSummary? Tests(List<string> junit, List<string> trx)
    {
        var all = junit.Select(f => Read(f, JUnitReader.Read)).Concat(trx.Select(f => Read(f, TrxReader.Read))).ToList();
        return all.Count == 0 ? null : all.Aggregate(TestSummary.Empty, (a, b) => a.Add(b));
    }

    private static CoverageSummary? Coverage(List<string> files)
    {
        if (files.Count == 0)
        {
            return null;
        }

        // Cobertura is XML; anything else is read as an LCOV tracefile. Lines are merged by source file and line across
        // every report and format: a line counts once, covered when any report covers it.
        var all = files.Select(f => IsXml(f) ? Read(f, CoberturaReader.ReadData) : Read(f, LcovReader.ReadData)).ToList();
        return CoverageData.Merge(all).Summary(files);
    }

    private static bool IsXml(string file)
    {
        using var stream = File.OpenRead(file);
        Span<byte> head = stackalloc byte[64];
        var n = stream.Read(head);
        return Encoding.UTF8.GetString(head[..n]).TrimStart('\uFEFF', ' ', '\t', '\r', '\n').StartsWith('<');
    }

    private static FindingSummary? Security(List<string> files)
    {
        var all = files.Select(f => Read(f, SarifReader.Read)).ToList();
        return all.Count == 0 ? null : new FindingSummary([.. all.SelectMany(s => s.Findings)], all.Sum(s => s.Suppressed), [.. files]);
    }

    private static async Task<Dictionary<string, CustomDocument>> CustomAsync(string[] pairs, CancellationToken ct)
    {
        var values = new Dictionary<string, CustomDocument>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            if (at <= 0 || at == pair.Length - 1)
            {
                throw new ApiException(ExitCodes.BadInput, $"--json '{pair}': expected CATEGORY=FILE");
            }

            var file = pair[(at + 1)..];
            if (!File.Exists(file))
            {
                throw new ApiException(ExitCodes.BadInput, $"--json {pair}: no such file");
            }

            // The server's gate knows the category's jsonPath: the document goes to it whole.
            await using var stream = File.OpenRead(file);
            try
            {
                using var document = await JsonDocument.ParseAsync(stream, cancellationToken: ct);
                values[pair[..at]] = new CustomDocument(file, document.RootElement.Clone());
            }
            catch (JsonException ex)
            {
                throw new ApiException(ExitCodes.BadInput, string.Create(CultureInfo.InvariantCulture, $"{file}:{(ex.LineNumber ?? 0) + 1}:{(ex.BytePositionInLine ?? 0) + 1}: not valid JSON"));
            }
        }

        return values;
    }

    /// <summary>The decision, the blocking failures first, then each category with its figures and criteria.</summary>
    internal static string Text(GateEvaluation e, TestSummary? tests)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{e.Service} {e.Version}: gate {e.Gate} decides {e.Decision.ToString().ToUpperInvariant()} (score {e.Score:0.#})");
        text.AppendLine(CultureInfo.InvariantCulture, $"  {e.Reason}");
        foreach (var (category, criterion) in e.Failures)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {(criterion.Blocking || criterion.Key ? "BLOCKING" : "FAILED  ")}  {criterion.Sentence}");
        }

        foreach (var c in e.Categories)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {c.Name,-12} {(c.Missing ? "   -" : c.Score.ToString("0.#", CultureInfo.InvariantCulture)),5}  {c.Figures}");
            foreach (var r in c.Criteria)
            {
                var flags = (r.Blocking ? " [blocking]" : string.Empty) + (r.Key ? " [key]" : string.Empty);
                text.AppendLine(CultureInfo.InvariantCulture, $"    {r.Outcome.ToString().ToLowerInvariant(),-7} {r.Sentence}{flags}");
            }

            if (c.Name == "tests" && tests is { Failures.Length: > 0 } t)
            {
                foreach (var f in t.Failures.Take(10))
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"    {(f.Outcome == TestOutcome.Error ? "error " : "failed")}  {(f.Suite is null ? string.Empty : f.Suite + ".")}{f.Name}: {f.Message}");
                }

                if (t.Failures.Length > 10)
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"    ... and {t.Failures.Length - 10} more");
                }
            }
        }

        if (e.By is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  posted by {e.By} at {e.At:yyyy-MM-dd HH:mm} UTC");
        }

        return text.ToString().TrimEnd();
    }
}
