using System.Globalization;
using System.Xml;

namespace Gantry.Core.Gates.Reports;

/// <summary>
/// Reads Cobertura XML (coverlet, coverage.py, Istanbul, gcovr): every &lt;line number hits&gt; of every
/// &lt;class filename&gt;, a line counted once per file (classes and methods repeat lines), covered when any
/// of its entries has hits; branches from <c>condition-coverage="50% (1/2)"</c>, once per class and line
/// (a lambda's class has branches of its own on its enclosing method's line). Where the root carries the tool's
/// own totals (<c>lines-covered</c>, <c>lines-valid</c>, <c>branches-covered</c>, <c>branches-valid</c>), they are the figures. A report that lists no
/// lines but has the root's <c>lines-covered</c> / <c>lines-valid</c> totals is read from those.
/// </summary>
public static class CoberturaReader
{
    public static CoverageSummary Read(string file, Stream stream) => XmlReports.Read(file, stream, xml =>
    {
        XmlReports.Root(xml, file, "Cobertura coverage report", "coverage");
        var rootCovered = XmlReports.Number(xml, file, "lines-covered");
        var rootValid = XmlReports.Number(xml, file, "lines-valid");
        var rootBranchesCovered = XmlReports.Number(xml, file, "branches-covered");
        var rootBranchesValid = XmlReports.Number(xml, file, "branches-valid");
        var lines = new Dictionary<(string File, int Line), bool>();
        var branches = new Dictionary<(string File, string Class, int Line), (int Covered, int Total)>();
        var current = string.Empty;
        var currentClass = string.Empty;
        while (xml.Read())
        {
            if (xml.NodeType != XmlNodeType.Element)
            {
                continue;
            }

            if (xml.LocalName == "class")
            {
                current = xml.GetAttribute("filename") ?? xml.GetAttribute("name") ?? string.Empty;
                currentClass = xml.GetAttribute("name") ?? current;
            }
            else if (xml.LocalName == "line")
            {
                var number = XmlReports.Number(xml, file, "number") ?? throw XmlReports.Error(xml, file, "a <line> without a number attribute");
                var hits = XmlReports.Number(xml, file, "hits") ?? throw XmlReports.Error(xml, file, "a <line> without a hits attribute");
                var (covered, total) = Conditions(xml, file);
                var key = (current, (int)number);
                lines[key] = lines.GetValueOrDefault(key) || hits > 0;
                if (total > 0)
                {
                    // A class lists its methods' lines again; a lambda's class has branches of its own on the same line.
                    var at = (current, currentClass, (int)number);
                    var seen = branches.GetValueOrDefault(at);
                    branches[at] = (Math.Max(seen.Covered, covered), Math.Max(seen.Total, total));
                }
            }
        }

        // The tool's own totals, where it wrote them, are what its users see (coverlet counts a few branches that
        // no line carries); the lines themselves otherwise.
        var (linesCovered, linesValid) = rootCovered is { } c && rootValid is { } v ? ((int)c, (int)v) : (lines.Values.Count(hit => hit), lines.Count);
        var (branchesCovered, branchesValid) = rootBranchesCovered is { } bc && rootBranchesValid is { } bv
            ? ((int)bc, (int)bv)
            : (branches.Values.Sum(b => b.Covered), branches.Values.Sum(b => b.Total));
        return new CoverageSummary(linesCovered, linesValid, branchesCovered, branchesValid, [file]);
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
    public static CoverageSummary Read(string file, Stream stream)
    {
        using var text = new StreamReader(stream, leaveOpen: true);
        var lines = new Dictionary<(string File, int Line), bool>();
        var branches = new Dictionary<(string File, string Branch), bool>();
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

                    lines[(source, at)] = lines.GetValueOrDefault((source, at)) || hits > 0;
                    break;
                case "BRDA":
                    var parts = value.Split(',');
                    if (source is null || parts.Length != 4)
                    {
                        throw new ReportException(file, number, colon + 2, source is null ? "BRDA: outside an SF: record" : $"expected BRDA:<line>,<block>,<branch>,<taken>, got BRDA:{value}");
                    }

                    var key = (source, $"{parts[0]},{parts[1]},{parts[2]}");
                    branches[key] = branches.GetValueOrDefault(key) || (parts[3] != "-" && parts[3] != "0");
                    break;
                case "FN" or "FNDA" or "FNF" or "FNH" or "LF" or "LH" or "BRF" or "BRH" or "VER" or "FNL" or "FNA":
                    // Totals and functions: the lines and branches themselves are counted.
                    break;
                default:
                    throw new ReportException(file, number, 1, $"not an LCOV line: '{(line.Length > 40 ? line[..40] + "..." : line)}'");
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

        return new CoverageSummary(lines.Values.Count(h => h), lines.Count, branches.Values.Count(t => t), branches.Count, [file]);
    }
}
