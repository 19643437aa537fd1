using System.Xml;

namespace Gantry.Core.Gates.Reports;

/// <summary>Streaming XML with positions: every error names the file, line and column.</summary>
internal static class XmlReports
{
    public static XmlReader Open(Stream stream) => XmlReader.Create(stream, new XmlReaderSettings
    {
        DtdProcessing = DtdProcessing.Prohibit,
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
            throw new ReportException(file, Math.Max(ex.LineNumber, 1), Math.Max(ex.LinePosition, 1), $"not well-formed XML: {reason.TrimEnd('.')}");
        }
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
            throw Error(xml, file, $"not a {kind}: the root element is <{xml.Name}>, expected {string.Join(" or ", expected.Select(e => $"<{e}>"))}");
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
