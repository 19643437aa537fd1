using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Gantry.Core.Manifest;

namespace Gantry.Commands;

/// <summary><c>gantry validate</c>: checks a manifest like a compiler, every problem at once.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var file = CommonOptions.File();
        var output = CommonOptions.Output();
        var command = new Command("validate", "Check a manifest and report every problem with its line and column.") { file, output };
        command.SetAction(async (parse, ct) =>
        {
            var result = ManifestLoader.LoadFile(parse.GetValue(file)!);
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(output) == OutputFormat.Json)
            {
                await stdout.WriteLineAsync(ToJson(parse.GetValue(file)!, result).AsMemory(), ct);
            }
            else
            {
                foreach (var d in result.Diagnostics)
                {
                    await stdout.WriteLineAsync(d.ToString().AsMemory(), ct);
                }

                // One problem is said in one line; the summary is for valid files and longer lists.
                if (result.Succeeded || result.Diagnostics.Count > 1)
                {
                    await stdout.WriteLineAsync(Summary(parse.GetValue(file)!, result).AsMemory(), ct);
                }
            }

            return result.Succeeded ? ExitCodes.Success : ExitCodes.BadInput;
        });
        return command;
    }

    private static string Summary(string file, ManifestLoadResult result)
    {
        var warnings = result.WarningCount == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $", {result.WarningCount} warning{Plural(result.WarningCount)}");
        if (result.Manifest is not { } m)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{file}: invalid: {result.ErrorCount} error{Plural(result.ErrorCount)}{warnings}");
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{file}: valid: {m.Services.Length} service{Plural(m.Services.Length)}, {m.Analysis.Length} analysis template{Plural(m.Analysis.Length)}, {m.Environments.Length} environment{Plural(m.Environments.Length)}{warnings}");
    }

    private static string Plural(int n) => n == 1 ? string.Empty : "s";

    private static string ToJson(string file, ManifestLoadResult result)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("file", file);
            w.WriteBoolean("valid", result.Succeeded);
            w.WriteNumber("errors", result.ErrorCount);
            w.WriteNumber("warnings", result.WarningCount);
            w.WriteStartArray("diagnostics");
            foreach (var d in result.Diagnostics)
            {
                w.WriteStartObject();
                w.WriteString("file", d.File);
                w.WriteNumber("line", d.Line);
                w.WriteNumber("column", d.Column);
                w.WriteString("severity", d.Severity == Severity.Error ? "error" : "warning");
                w.WriteString("message", d.Message);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
