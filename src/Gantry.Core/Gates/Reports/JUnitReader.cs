using System.Xml;

namespace Gantry.Core.Gates.Reports;

/// <summary>
/// Reads JUnit XML in its common dialects: a &lt;testsuites&gt; root or a single &lt;testsuite&gt;, suites
/// nested or not (Maven Surefire, pytest, jest-junit, go-junit-report). Tests are counted from their
/// &lt;testcase&gt; elements, not from the suites' attributes, which tools fill differently; a test with
/// &lt;failure&gt; failed, with &lt;error&gt; erred, with &lt;skipped&gt; was skipped, and Surefire's
/// &lt;flakyFailure&gt; / &lt;flakyError&gt; mark a test that passed on a rerun. Streams the file, so a
/// report of a hundred thousand tests reads in well under a second.
/// </summary>
public static class JUnitReader
{
    public static TestSummary Read(string file, Stream stream) => XmlReports.Read(file, stream, xml =>
    {
        XmlReports.Root(xml, file, "JUnit report", "testsuites", "testsuite");
        var tally = new TestTally(file);
        var suites = new Stack<(string? Name, int Depth)>();
        var more = true;
        while (more)
        {
            if (xml.NodeType != XmlNodeType.Element)
            {
                more = xml.Read();
                continue;
            }

            while (suites.Count > 0 && suites.Peek().Depth >= xml.Depth)
            {
                suites.Pop();
            }

            switch (xml.LocalName)
            {
                case "testsuite":
                    suites.Push((xml.GetAttribute("name"), xml.Depth));
                    break;
                case "testcase":
                    var (outcome, message, wasFlaky, time) = ReadCase(xml, file);
                    tally.Add(outcome, message.Name, message.Suite ?? (suites.Count > 0 ? suites.Peek().Name : null), message.Text, TimeSpan.FromSeconds(time), wasFlaky);

                    // ReadCase left the reader on the node after the test.
                    continue;
            }

            more = xml.Read();
        }

        return tally.Summary();
    });

    /// <summary>Reads one &lt;testcase&gt; and leaves the reader on the node after it.</summary>
    private static (TestOutcome Outcome, (string Name, string? Suite, string Text) Message, bool Flaky, double Seconds) ReadCase(XmlReader xml, string file)
    {
        var name = xml.GetAttribute("name") ?? throw XmlReports.Error(xml, file, "a <testcase> without a name attribute");
        var suite = xml.GetAttribute("classname") is { Length: > 0 } c ? c : null;
        var seconds = XmlReports.Number(xml, file, "time") ?? 0;
        var outcome = TestOutcome.Passed;
        var text = string.Empty;
        var flaky = false;
        if (xml.IsEmptyElement)
        {
            xml.Read();
            return (outcome, (name, suite, text), flaky, seconds);
        }

        var depth = xml.Depth;
        xml.Read();
        while (!(xml.NodeType == XmlNodeType.EndElement && xml.Depth == depth))
        {
            if (xml.NodeType == XmlNodeType.Element && xml.Depth == depth + 1)
            {
                var kind = xml.LocalName;
                var attribute = xml.GetAttribute("message");
                switch (kind)
                {
                    case "failure" or "error":
                        // An error outranks a failure; the first message of the worst kind is kept.
                        var worse = kind == "error" ? TestOutcome.Error : TestOutcome.Failed;
                        var body = Content(xml);
                        if (outcome is TestOutcome.Passed or TestOutcome.Skipped || (worse == TestOutcome.Error && outcome == TestOutcome.Failed))
                        {
                            outcome = worse;
                            text = XmlReports.FirstLine(attribute is { Length: > 0 } ? attribute : body);
                        }

                        continue;
                    case "skipped":
                        if (outcome == TestOutcome.Passed)
                        {
                            outcome = TestOutcome.Skipped;
                        }

                        break;
                    case "flakyFailure" or "flakyError":
                        flaky = true;
                        break;
                }

                xml.Skip();
                continue;
            }

            if (!xml.Read())
            {
                break;
            }
        }

        xml.Read();
        return (outcome, (name, suite, text), flaky, seconds);
    }

    /// <summary>The text in the current element (its first few hundred characters), leaving the reader after the element.</summary>
    private static string Content(XmlReader xml)
    {
        var text = new System.Text.StringBuilder();
        using (var inner = xml.ReadSubtree())
        {
            while (inner.Read() && text.Length < 400)
            {
                if (inner.NodeType is XmlNodeType.Text or XmlNodeType.CDATA)
                {
                    text.Append(inner.Value);
                }
            }
        }

        // Closing the subtree leaves the reader on the element's end (or on the element, when empty).
        xml.Read();
        return text.ToString();
    }
}
