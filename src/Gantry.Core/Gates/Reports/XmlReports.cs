using System.Xml;

namespace Gantry.Core.Gates.Reports;

/// <summary>
/// Streaming XML with positions: every error names the file, line and column, in words for a person. A
/// DOCTYPE (Cobertura's reference implementation, gcovr and Istanbul always write one) is skipped: never
/// fetched, its entities never expanded.
/// </summary>
internal static class XmlReports
{
    public static XmlReader Open(Stream stream) => XmlReader.Create(stream, new XmlReaderSettings
    {
        DtdProcessing = DtdProcessing.Ignore,
        XmlResolver = null,
        IgnoreComments = true,
        IgnoreProcessingInstructions = true,
        IgnoreWhitespace = true,
        CloseInput = false,
    });

    /// <summary>Runs <paramref name="read"/>, turning XML syntax errors into positioned report errors.</summary>
    public static T Read<T>(string file, Stream stream, Func<XmlReader, T> read)
    {
        using var xml = Open(stream);
        try
        {
            return read(xml);
        }
        catch (XmlException ex)
        {
            var reason = ex.Message;
            var at = reason.IndexOf(" Line ", StringComparison.Ordinal);
            reason = at > 0 ? reason[..at] : reason;
            throw new ReportException(file, Math.Max(ex.LineNumber, 1), Math.Max(ex.LinePosition, 1), Explain(reason.TrimEnd('.')));
        }
    }

    /// <summary>What the XML parser says, as a sentence about the file.</summary>
    internal static string Explain(string reason)
    {
        const string notClosed = "Unexpected end of file has occurred. The following elements are not closed: ";
        if (reason == "Root element is missing")
        {
            return "empty: no XML element in it";
        }

        if (reason.StartsWith(notClosed, StringComparison.Ordinal))
        {
            var open = reason[notClosed.Length..].Split(", ");
            return $"truncated: the file ends before </{open[0]}> (still open: {string.Join(", ", open.Select(e => $"<{e}>"))})";
        }

        if (reason.StartsWith("Data at the root level is invalid", StringComparison.Ordinal))
        {
            return "not XML: an XML report starts with '<' (is this the right file, or a report in another format?)";
        }

        if (System.Text.RegularExpressions.Regex.Match(reason, "^The '(?<start>[^']+)' start tag on line (?<line>\\d+) position (?<col>\\d+) does not match the end tag of '(?<end>[^']+)'$") is { Success: true } mismatch)
        {
            return $"</{mismatch.Groups["end"].Value}> closes the <{mismatch.Groups["start"].Value}> opened at {mismatch.Groups["line"].Value}:{mismatch.Groups["col"].Value} (a missing </{mismatch.Groups["start"].Value}>?)";
        }

        if (System.Text.RegularExpressions.Regex.Match(reason, "^'(?<c>.*)', hexadecimal value 0x(?<hex>[0-9A-Fa-f]+), is an invalid character$") is { Success: true } invalid)
        {
            return $"not text: character U+{invalid.Groups["hex"].Value.PadLeft(4, '0')} cannot appear in XML (a binary or damaged file?)";
        }

        if (System.Text.RegularExpressions.Regex.Match(reason, "^Reference to undeclared entity '(?<name>[^']+)'$") is { Success: true } entity)
        {
            return $"uses the entity &{entity.Groups["name"].Value}; that the file does not define (entities of a DTD are not read)";
        }

        return $"not well-formed XML: {reason}";
    }

    /// <summary>Moves to the root element; an empty file is an error rather than an empty report.</summary>
    public static void Root(XmlReader xml, string file, string kind, params string[] expected)
    {
        if (!xml.ReadToFollowingElement())
        {
            throw new ReportException(file, 1, 1, $"empty: no {kind} in it");
        }

        if (!expected.Contains(xml.LocalName, StringComparer.Ordinal))
        {
            var hint = xml.LocalName switch
            {
                "testsuites" or "testsuite" => ": this is a JUnit report (give it with --junit)",
                "TestRun" => ": this is a TRX report (give it with --trx)",
                "coverage" => ": this is a Cobertura coverage report (give it with --coverage)",
                "CoverageSession" => ": this is an OpenCover report; ask the tool for Cobertura XML or LCOV",
                "report" => ": this looks like a JaCoCo report; ask the tool for Cobertura XML (or convert it) for --coverage",
                _ => string.Empty,
            };
            throw Error(xml, file, $"not a {kind}: the root element is <{xml.Name}>, expected {string.Join(" or ", expected.Select(e => $"<{e}>"))}{hint}");
        }
    }

    public static ReportException Error(XmlReader xml, string file, string message) =>
        xml is IXmlLineInfo info && info.HasLineInfo()
            ? new ReportException(file, info.LineNumber, info.LinePosition, message)
            : new ReportException(file, 1, 1, message);

    /// <summary>A number attribute, or null when absent; a malformed one is an error with its position.</summary>
    public static double? Number(XmlReader xml, string file, string attribute)
    {
        var text = xml.GetAttribute(attribute);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        // Some tools write "1,234.5" for long runs; the grouping separator is dropped.
        return double.TryParse(text.Replace(",", string.Empty, StringComparison.Ordinal), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw Error(xml, file, $"attribute {attribute}=\"{text}\" of <{xml.Name}> is not a number");
    }

    private static bool ReadToFollowingElement(this XmlReader xml)
    {
        while (xml.Read())
        {
            if (xml.NodeType == XmlNodeType.Element)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The first line of a message, trimmed and cut to a readable length.</summary>
    public static string FirstLine(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return string.Empty;
        }

        var line = text.Trim().Split('\n', 2)[0].Trim();
        return line.Length <= 200 ? line : line[..197] + "...";
    }
}
