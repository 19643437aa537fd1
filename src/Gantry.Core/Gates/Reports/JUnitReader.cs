using System.Xml;

namespace Gantry.Core.Gates.Reports;

/// <summary>
/// Reads JUnit XML in its common dialects: a &lt;testsuites&gt; root or a single &lt;testsuite&gt;, suites
/// nested or not (Maven Surefire, pytest, jest-junit, go-junit-report). Tests are counted from their
/// &lt;testcase&gt; elements, not from the suites' attributes, which tools fill differently; a test with
/// &lt;failure&gt; failed, with &lt;error&gt; erred, with &lt;skipped&gt; was skipped, and Surefire's
/// &lt;flakyFailure&gt; / &lt;flakyError&gt; mark a test that passed on a rerun. A test that did not run is
/// skipped however its producer says so: &lt;skipped&gt;, <c>status="disabled"</c>, <c>"notrun"</c> or
/// <c>"skipped"</c> (GoogleTest, ctest, many others), <c>result="suppressed"</c>; and a suite declaring
/// <c>disabled="N"</c> with fewer such tests listed counts the rest as skipped, as the GitHub report
/// actions of EnricoMi and mikepenz do. Streams the file, so a report of a hundred thousand tests reads in
/// well under a second.
/// </summary>
public static class JUnitReader
{
    public static TestSummary Read(string file, Stream stream) => XmlReports.Read(file, stream, xml =>
    {
        XmlReports.Root(xml, file, "JUnit report", "testsuites", "testsuite");
        var tally = new TestTally(file);
        var suites = new Stack<Suite>();
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
                suites.Pop().Settle(tally);
            }

            switch (xml.LocalName)
            {
                case "testsuite":
                    suites.Push(new Suite(xml.GetAttribute("name"), xml.Depth, (int)(XmlReports.Number(xml, file, "disabled") ?? 0)));
                    break;
                case "testcase":
                    var (outcome, message, wasFlaky, time, disabled) = ReadCase(xml, file);
                    tally.Add(outcome, message.Name, message.Suite ?? (suites.Count > 0 ? suites.Peek().Name : null), message.Text, TimeSpan.FromSeconds(time), wasFlaky);
                    if (disabled && suites.Count > 0)
                    {
                        suites.Peek().Listed++;
                    }

                    // ReadCase left the reader on the node after the test.
                    continue;
            }

            more = xml.Read();
        }

        while (suites.Count > 0)
        {
            suites.Pop().Settle(tally);
        }

        return tally.Summary();
    });

    /// <summary>A suite being read: how many disabled tests it declares, and how many of them it listed.</summary>
    private sealed class Suite(string? name, int depth, int declared)
    {
        public string? Name { get; } = name;

        public int Depth { get; } = depth;

        public int Listed { get; set; }

        /// <summary>Disabled tests the suite declares but does not list are skipped tests too.</summary>
        public void Settle(TestTally tally)
        {
            for (var i = Listed; i < declared; i++)
            {
                tally.Add(TestOutcome.Skipped, "(disabled)", Name, string.Empty, TimeSpan.Zero);
            }
        }
    }

    /// <summary>Whether a test's <c>status</c> or <c>result</c> says it did not run.</summary>
    private static bool NotRun(XmlReader xml) =>
        xml.GetAttribute("status") is { } status && status.ToLowerInvariant() is "disabled" or "notrun" or "not_run" or "skipped" or "ignored"
        || xml.GetAttribute("result") is { } result && result.ToLowerInvariant() is "suppressed" or "skipped";

    /// <summary>Reads one &lt;testcase&gt; and leaves the reader on the node after it.</summary>
    private static (TestOutcome Outcome, (string Name, string? Suite, string Text) Message, bool Flaky, double Seconds, bool Disabled) ReadCase(XmlReader xml, string file)
    {
        var name = xml.GetAttribute("name") ?? throw XmlReports.Error(xml, file, "a <testcase> without a name attribute");
        var suite = xml.GetAttribute("classname") is { Length: > 0 } c ? c : null;
        var seconds = XmlReports.Number(xml, file, "time") ?? 0;
        var disabled = NotRun(xml);
        var outcome = disabled ? TestOutcome.Skipped : TestOutcome.Passed;
        var text = string.Empty;
        var flaky = false;
        if (xml.IsEmptyElement)
        {
            xml.Read();
            return (outcome, (name, suite, text), flaky, seconds, disabled);
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
        return (outcome, (name, suite, text), flaky, seconds, disabled);
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
