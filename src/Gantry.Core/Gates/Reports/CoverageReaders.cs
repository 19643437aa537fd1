using System.Globalization;
using System.Xml;

namespace Gantry.Core.Gates.Reports;

/// <summary>
/// Reads Cobertura XML (coverlet, dotnet-coverage, coverage.py, Istanbul, gcovr, the reference Cobertura):
/// every &lt;line number hits&gt; of every &lt;class filename&gt;, as <see cref="CoverageData"/>: a line counted
/// once per file (classes and methods repeat lines, and dotnet-coverage's own totals count a line once per
/// method), covered when any of its entries has hits; branches from <c>condition-coverage="50% (1/2)"</c>, once
/// per class and line (a lambda's class has branches of its own on its enclosing method's line). Relative
/// filenames are joined to the report's first &lt;source&gt;. The root's totals are used only by a report that
/// lists no lines at all.
/// </summary>
public static class CoberturaReader
{
    public static CoverageSummary Read(string file, Stream stream) => ReadData(file, stream).Summary([file]);

    public static CoverageData ReadData(string file, Stream stream) => XmlReports.Read(file, stream, xml =>
    {
        XmlReports.Root(xml, file, "Cobertura coverage report", "coverage");
        var rootCovered = XmlReports.Number(xml, file, "lines-covered");
        var rootValid = XmlReports.Number(xml, file, "lines-valid");
        var data = new CoverageData();
        var branches = new Dictionary<(string File, string Class, int Line), (int Covered, int Total)>();
        string? source = null;
        var current = string.Empty;
        var currentClass = string.Empty;
        var anyLine = false;
        while (xml.Read())
        {
            if (xml.NodeType != XmlNodeType.Element)
            {
                continue;
            }

            if (xml.LocalName == "source" && source is null && !xml.IsEmptyElement)
            {
                source = CoverageData.Normalize(xml.ReadElementContentAsString()).TrimEnd('/');
            }
            else if (xml.LocalName == "class")
            {
                var name = xml.GetAttribute("filename") ?? xml.GetAttribute("name") ?? string.Empty;
                current = CoverageData.Normalize(name);
                if (source is { Length: > 0 } root && !current.StartsWith('/') && !(current.Length > 1 && current[1] == ':'))
                {
                    current = CoverageData.Normalize(root + "/" + current);
                }

                currentClass = xml.GetAttribute("name") ?? current;
            }
            else if (xml.LocalName == "line")
            {
                var number = XmlReports.Number(xml, file, "number") ?? throw XmlReports.Error(xml, file, "a <line> without a number attribute");
                var hits = XmlReports.Number(xml, file, "hits") ?? throw XmlReports.Error(xml, file, "a <line> without a hits attribute");
                var (covered, total) = Conditions(xml, file);
                anyLine = true;
                data.Line(current, (int)number, hits > 0);
                if (total > 0)
                {
                    var at = (current, currentClass, (int)number);
                    var seen = branches.GetValueOrDefault(at);
                    branches[at] = (Math.Max(seen.Covered, covered), Math.Max(seen.Total, total));
                }
            }
        }

        foreach (var line in branches.GroupBy(b => (b.Key.File, b.Key.Line)))
        {
            data.Branches(line.Key.File, line.Key.Line, line.Sum(b => b.Value.Covered), line.Sum(b => b.Value.Total));
        }

        if (!anyLine && rootCovered is { } c && rootValid is { } v)
        {
            data.Totals((int)c, (int)v);
        }

        return data;
    });

    private static (int Covered, int Branches) Conditions(XmlReader xml, string file)
    {
        var text = xml.GetAttribute("condition-coverage");
        if (string.IsNullOrEmpty(text) || xml.GetAttribute("branch") is not "true" and not "True")
        {
            return (0, 0);
        }

        // "50% (1/2)"
        var open = text.IndexOf('(', StringComparison.Ordinal);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var close = text.IndexOf(')', StringComparison.Ordinal);
        if (open < 0 || slash < open || close < slash
            || !int.TryParse(text.AsSpan(open + 1, slash - open - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var covered)
            || !int.TryParse(text.AsSpan(slash + 1, close - slash - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var total))
        {
            throw XmlReports.Error(xml, file, $"condition-coverage=\"{text}\" is not of the form \"50% (1/2)\"");
        }

        return (covered, total);
    }
}

/// <summary>
/// Reads LCOV tracefiles (<c>SF:</c>, <c>DA:line,hits</c>, <c>BRDA:</c>, <c>end_of_record</c>): a line counted
/// once per file. A record without <c>end_of_record</c> at the end of the file is a truncated report.
/// </summary>
public static class LcovReader
{
    public static CoverageSummary Read(string file, Stream stream) => ReadData(file, stream).Summary([file]);

    public static CoverageData ReadData(string file, Stream stream)
    {
        using var text = new StreamReader(stream, leaveOpen: true);
        var data = new CoverageData();
        var branches = new Dictionary<(string File, int Line, string Branch), bool>();
        string? source = null;
        var sourceLine = 0;
        var number = 0;
        var any = false;
        while (text.ReadLine() is { } line)
        {
            number++;
            if (line.Length == 0 || line.StartsWith("TN:", StringComparison.Ordinal))
            {
                continue;
            }

            any = true;
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var tag = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? string.Empty : line[(colon + 1)..];
            switch (tag)
            {
                case "SF":
                    if (source is not null)
                    {
                        throw new ReportException(file, number, 1, $"SF: before the end_of_record of {source} (line {sourceLine})");
                    }

                    source = value;
                    sourceLine = number;
                    break;
                case "end_of_record":
                    if (source is null)
                    {
                        throw new ReportException(file, number, 1, "end_of_record without an SF: record");
                    }

                    source = null;
                    break;
                case "DA":
                    var fields = value.Split(',');
                    if (source is null || fields.Length < 2
                        || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var at)
                        || !long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var hits))
                    {
                        throw new ReportException(file, number, colon + 2, source is null ? "DA: outside an SF: record" : $"expected DA:<line>,<hits>, got DA:{value}");
                    }

                    data.Line(source, at, hits > 0);
                    break;
                case "BRDA":
                    var parts = value.Split(',');
                    if (source is null || parts.Length != 4 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var branchLine))
                    {
                        throw new ReportException(file, number, colon + 2, source is null ? "BRDA: outside an SF: record" : $"expected BRDA:<line>,<block>,<branch>,<taken>, got BRDA:{value}");
                    }

                    var key = (source, branchLine, $"{parts[1]},{parts[2]}");
                    branches[key] = branches.GetValueOrDefault(key) || (parts[3] != "-" && parts[3] != "0");
                    break;
                case "FN" or "FNDA" or "FNF" or "FNH" or "LF" or "LH" or "BRF" or "BRH" or "VER" or "FNL" or "FNA":
                    // Totals and functions: the lines and branches themselves are counted.
                    break;
                default:
                    throw new ReportException(file, number, 1, NotLcov(line, any: number > 1));
            }
        }

        if (!any)
        {
            throw new ReportException(file, 1, 1, "empty: no LCOV records in it");
        }

        if (source is not null)
        {
            throw new ReportException(file, number + 1, 1, $"truncated: the record of {source} (line {sourceLine}) has no end_of_record");
        }

        foreach (var line in branches.GroupBy(b => (b.Key.File, b.Key.Line)))
        {
            data.Branches(line.Key.File, line.Key.Line, line.Count(b => b.Value), line.Count());
        }

        return data;
    }

    /// <summary>Why a line is not LCOV, in words: the file is another format altogether, or one line is off.</summary>
    private static string NotLcov(string line, bool any)
    {
        var start = line.TrimStart('\uFEFF', ' ', '\t');
        if (!any && (start.StartsWith('{') || start.StartsWith('[')))
        {
            return "this is JSON, not a coverage report Gantry reads: give Cobertura XML or an LCOV tracefile (coverage.py: 'coverage xml' or 'coverage lcov'; Istanbul, nyc, jest, c8: the 'cobertura' or 'lcov' reporter)";
        }

        if (!any && start.StartsWith('<'))
        {
            return "this is XML but not Cobertura: give Cobertura XML (a <coverage> root) or an LCOV tracefile";
        }

        return $"not an LCOV line: '{(line.Length > 40 ? line[..40] + "..." : line)}' (LCOV lines start with SF:, DA:, BRDA:, FN:, LF:, LH: or end_of_record)";
    }
}
