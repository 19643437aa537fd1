using System.Globalization;
using System.Text.Json;

namespace Gantry.Core.Gates.Reports;

/// <summary>
/// Reads SARIF 2.1.0 (CodeQL, Semgrep, Trivy, gosec, Roslyn...). A result's severity comes from its
/// <c>security-severity</c> property, or its rule's (as GitHub code scanning maps it: 9.0 and above
/// critical, 7.0 high, 4.0 medium, above 0 low); without one, from its level (error high, warning
/// medium, note low, none none), which defaults to the rule's configured level and then to warning.
/// Suppressed results and results absent from the baseline are left out (counted as suppressed).
/// </summary>
public static class SarifReader
{
    public static FindingSummary Read(string file, Stream stream)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException ex)
        {
            var reason = ex.Message;
            var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            reason = cut > 0 ? reason[..cut] : reason;
            throw new ReportException(file, (int)(ex.LineNumber ?? 0) + 1, (int)(ex.BytePositionInLine ?? 0) + 1, $"not valid JSON: {reason.TrimEnd(' ', '.')}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("runs", out var runs) || runs.ValueKind != JsonValueKind.Array)
            {
                throw new ReportException(file, 1, 1, "not a SARIF log: no 'runs' array at the top level");
            }

            if (root.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String && version.GetString() != "2.1.0")
            {
                throw new ReportException(file, 1, 1, $"SARIF version {version.GetString()} is not supported (2.1.0 is)");
            }

            var findings = new List<Finding>();
            var suppressed = 0;
            var runIndex = 0;
            foreach (var run in runs.EnumerateArray())
            {
                var tool = run.TryGetProperty("tool", out var t) && t.TryGetProperty("driver", out var d) && d.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                    ? n.GetString()!
                    : "unknown tool";
                var rules = Rules(run);
                if (run.TryGetProperty("results", out var results) && results.ValueKind == JsonValueKind.Array)
                {
                    var resultIndex = 0;
                    foreach (var result in results.EnumerateArray())
                    {
                        if (result.ValueKind != JsonValueKind.Object)
                        {
                            throw new ReportException(file, 1, 1, string.Create(CultureInfo.InvariantCulture, $"runs[{runIndex}].results[{resultIndex}] is not an object"));
                        }

                        if (IsSuppressed(result))
                        {
                            suppressed++;
                        }
                        else
                        {
                            findings.Add(ReadResult(result, rules, tool));
                        }

                        resultIndex++;
                    }
                }

                runIndex++;
            }

            return new FindingSummary([.. findings], suppressed, [file]);
        }
    }

    private sealed record Rule(string Id, string? Level, double? SecuritySeverity);

    private static (Dictionary<string, Rule> ById, List<Rule> ByIndex) Rules(JsonElement run)
    {
        var byId = new Dictionary<string, Rule>(StringComparer.Ordinal);
        var byIndex = new List<Rule>();
        if (run.TryGetProperty("tool", out var tool) && tool.TryGetProperty("driver", out var driver) && driver.TryGetProperty("rules", out var rules) && rules.ValueKind == JsonValueKind.Array)
        {
            foreach (var rule in rules.EnumerateArray())
            {
                var id = rule.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : string.Empty;
                var level = rule.TryGetProperty("defaultConfiguration", out var config) && config.TryGetProperty("level", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
                var r = new Rule(id, level, SecuritySeverity(rule));
                byId.TryAdd(id, r);
                byIndex.Add(r);
            }
        }

        return (byId, byIndex);
    }

    private static bool IsSuppressed(JsonElement result) =>
        (result.TryGetProperty("suppressions", out var s) && s.ValueKind == JsonValueKind.Array && s.EnumerateArray().Any(x =>
            !x.TryGetProperty("status", out var status) || status.GetString() is "accepted" or null))
        || (result.TryGetProperty("baselineState", out var b) && b.GetString() == "absent");

    private static Finding ReadResult(JsonElement result, (Dictionary<string, Rule> ById, List<Rule> ByIndex) rules, string tool)
    {
        var ruleId = result.TryGetProperty("ruleId", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()!
            : result.TryGetProperty("rule", out var rr) && rr.TryGetProperty("id", out var rid) && rid.ValueKind == JsonValueKind.String ? rid.GetString()!
            : string.Empty;
        Rule? rule = null;
        if (result.TryGetProperty("ruleIndex", out var index) && index.TryGetInt32(out var i) && i >= 0 && i < rules.ByIndex.Count)
        {
            rule = rules.ByIndex[i];
            ruleId = ruleId.Length == 0 ? rule.Id : ruleId;
        }
        else if (ruleId.Length > 0)
        {
            // "CA2100/1" names a rule and a sub-id; the rule is the part before the slash.
            rule = rules.ById.GetValueOrDefault(ruleId) ?? rules.ById.GetValueOrDefault(ruleId.Split('/')[0]);
        }

        var level = result.TryGetProperty("level", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString()! : rule?.Level ?? "warning";
        var securitySeverity = SecuritySeverity(result) ?? rule?.SecuritySeverity;
        var severity = securitySeverity is { } score
            ? score >= 9.0 ? FindingSeverity.Critical : score >= 7.0 ? FindingSeverity.High : score >= 4.0 ? FindingSeverity.Medium : score > 0 ? FindingSeverity.Low : FindingSeverity.None
            : level switch
            {
                "error" => FindingSeverity.High,
                "warning" => FindingSeverity.Medium,
                "note" => FindingSeverity.Low,
                _ => FindingSeverity.None,
            };
        var message = result.TryGetProperty("message", out var m) && m.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()! : string.Empty;
        return new Finding(ruleId.Length == 0 ? "(no rule)" : ruleId, severity, level, XmlReports.FirstLine(message), Location(result), tool);
    }

    private static double? SecuritySeverity(JsonElement element)
    {
        if (!element.TryGetProperty("properties", out var properties) || properties.ValueKind != JsonValueKind.Object
            || !properties.TryGetProperty("security-severity", out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number => value.GetDouble(),
            JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => null,
        };
    }

    private static string? Location(JsonElement result)
    {
        if (!result.TryGetProperty("locations", out var locations) || locations.ValueKind != JsonValueKind.Array || locations.GetArrayLength() == 0)
        {
            return null;
        }

        var physical = locations[0].TryGetProperty("physicalLocation", out var p) ? p : default;
        if (physical.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var uri = physical.TryGetProperty("artifactLocation", out var a) && a.TryGetProperty("uri", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        var line = physical.TryGetProperty("region", out var r) && r.TryGetProperty("startLine", out var s) && s.TryGetInt32(out var n) ? n : (int?)null;
        return uri is null ? null : line is { } at ? string.Create(CultureInfo.InvariantCulture, $"{uri}:{at}") : uri;
    }
}
