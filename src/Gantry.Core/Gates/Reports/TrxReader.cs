using System.Globalization;
using System.Xml;

namespace Gantry.Core.Gates.Reports;

/// <summary>
/// Reads a Visual Studio / <c>dotnet test --logger trx</c> results file: one &lt;UnitTestResult&gt; per test
/// run, its outcome (Passed, Failed, Error, Timeout, Aborted, NotExecuted, Inconclusive...), duration and
/// error message. Counted from the results, not from the summary counters.
/// </summary>
public static class TrxReader
{
    public static TestSummary Read(string file, Stream stream) => XmlReports.Read(file, stream, xml =>
    {
        XmlReports.Root(xml, file, "TRX report", "TestRun");
        var tally = new TestTally(file);
        var more = true;
        while (more)
        {
            if (xml.NodeType != XmlNodeType.Element || xml.LocalName != "UnitTestResult")
            {
                more = xml.Read();
                continue;
            }

            var name = xml.GetAttribute("testName") ?? throw XmlReports.Error(xml, file, "a <UnitTestResult> without a testName attribute");
            var outcomeText = xml.GetAttribute("outcome") ?? "NotExecuted";
            var time = xml.GetAttribute("duration");
            var duration = string.IsNullOrEmpty(time) ? TimeSpan.Zero
                : TimeSpan.TryParse(time, CultureInfo.InvariantCulture, out var d) ? d : throw XmlReports.Error(xml, file, $"duration=\"{time}\" of <UnitTestResult> is not a time span");

            var outcome = outcomeText switch
            {
                "Passed" or "PassedButRunAborted" or "Warning" => TestOutcome.Passed,
                "Failed" => TestOutcome.Failed,
                "Error" or "Timeout" or "Aborted" => TestOutcome.Error,
                "NotExecuted" or "NotRunnable" or "Inconclusive" or "Pending" or "Disconnected" or "InProgress" or "Completed" => TestOutcome.Skipped,
                _ => throw XmlReports.Error(xml, file, $"outcome=\"{outcomeText}\" of <UnitTestResult> is not a TRX outcome"),
            };
            var message = outcome is TestOutcome.Failed or TestOutcome.Error ? Message(xml) : null;
            if (message is null)
            {
                xml.Skip();
            }

            var dot = name.LastIndexOf('.');
            tally.Add(outcome, dot > 0 ? name[(dot + 1)..] : name, dot > 0 ? name[..dot] : null, XmlReports.FirstLine(message), duration);

            more = xml.NodeType != XmlNodeType.None || xml.Read();
        }

        return tally.Summary();
    });

    /// <summary>The text of Output/ErrorInfo/Message inside the current result, leaving the reader after the result.</summary>
    private static string Message(XmlReader xml)
    {
        var message = string.Empty;
        using (var inner = xml.ReadSubtree())
        {
            while (inner.Read())
            {
                if (inner.NodeType == XmlNodeType.Element && inner.LocalName == "Message" && message.Length == 0)
                {
                    message = inner.ReadElementContentAsString();
                }
            }
        }

        xml.Read();
        return message;
    }
}
