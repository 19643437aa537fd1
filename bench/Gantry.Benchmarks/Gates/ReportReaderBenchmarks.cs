using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml;
using BenchmarkDotNet.Attributes;
using Gantry.Core.Gates.Reports;

namespace Gantry.Benchmarks.Gates;

/// <summary>
/// Reading a 100,000-test JUnit report and a 50,000-result SARIF log (the issue asks for under 2 s each),
/// against their peers: an XmlReader that only walks the same file, and System.Text.Json's JsonDocument
/// parsing the same log. The ratio is what counting, failures and severity mapping cost.
/// </summary>
[MemoryDiagnoser]
public class ReportReaderBenchmarks
{
    private byte[] junit = [];
    private byte[] sarif = [];

    [GlobalSetup]
    public void Setup()
    {
        var x = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        for (var s = 0; s < 100; s++)
        {
            x.Append(CultureInfo.InvariantCulture, $"  <testsuite name=\"com.example.Suite{s}\" tests=\"1000\">\n");
            for (var t = 0; t < 1000; t++)
            {
                x.Append(CultureInfo.InvariantCulture, $"    <testcase name=\"test{t}\" classname=\"com.example.Suite{s}\" time=\"0.0{t % 10}\"");
                x.Append(t % 100 == 7
                    ? "><failure message=\"expected: &lt;1&gt; but was: &lt;2&gt;\" type=\"AssertionError\">at com.example.Suite.test(Suite.java:31)\nat more</failure></testcase>\n"
                    : t % 50 == 3 ? "><skipped/></testcase>\n" : "/>\n");
            }

            x.Append("  </testsuite>\n");
        }

        junit = Encoding.UTF8.GetBytes(x.Append("</testsuites>\n").ToString());

        var j = new StringBuilder("{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{\"name\":\"scanner\",\"rules\":[");
        for (var r = 0; r < 100; r++)
        {
            j.Append(CultureInfo.InvariantCulture, $"{(r > 0 ? "," : string.Empty)}{{\"id\":\"rule{r}\",\"defaultConfiguration\":{{\"level\":\"warning\"}},\"properties\":{{\"security-severity\":\"{r % 10}.5\"}}}}");
        }

        j.Append("]}},\"results\":[");
        for (var i = 0; i < 50_000; i++)
        {
            j.Append(CultureInfo.InvariantCulture, $"{(i > 0 ? "," : string.Empty)}{{\"ruleId\":\"rule{i % 100}\",\"ruleIndex\":{i % 100},\"level\":\"error\",\"message\":{{\"text\":\"Finding {i} in a file\"}},\"locations\":[{{\"physicalLocation\":{{\"artifactLocation\":{{\"uri\":\"src/file{i % 700}.js\"}},\"region\":{{\"startLine\":{i % 300 + 1}}}}}}}]}}");
        }

        sarif = Encoding.UTF8.GetBytes(j.Append("]}]}").ToString());
    }

    [Benchmark(Description = "peer: XmlReader walk of 100k-test JUnit")]
    public int XmlWalk()
    {
        using var xml = XmlReader.Create(new MemoryStream(junit));
        var n = 0;
        while (xml.Read())
        {
            n++;
        }

        return n;
    }

    [Benchmark(Description = "gantry: JUnitReader, 100k tests")]
    public int JUnit() => JUnitReader.Read("bench.xml", new MemoryStream(junit)).Total;

    [Benchmark(Description = "peer: JsonDocument.Parse of 50k-result SARIF")]
    public int JsonParse()
    {
        using var doc = JsonDocument.Parse(sarif);
        return doc.RootElement.GetProperty("runs").GetArrayLength();
    }

    [Benchmark(Description = "gantry: SarifReader, 50k results")]
    public int Sarif() => SarifReader.Read("bench.sarif", new MemoryStream(sarif)).Findings.Length;
}
