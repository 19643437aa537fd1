using System.Text;
using Gantry.Core.Gates.Reports;

namespace Gantry.Core.Tests.Gates.Reports;

/// <summary>Malformed and truncated reports: each is an error naming the file and position, never an empty report.</summary>
public sealed class MalformedReportTests
{
    private static readonly Dictionary<string, Func<string, Stream, object>> Readers = new()
    {
        ["junit"] = (f, s) => JUnitReader.Read(f, s),
        ["trx"] = (f, s) => TrxReader.Read(f, s),
        ["cobertura"] = (f, s) => CoberturaReader.Read(f, s),
        ["lcov"] = (f, s) => LcovReader.Read(f, s),
        ["sarif"] = (f, s) => SarifReader.Read(f, s),
    };

    [Theory(Timeout = 10_000)]
    [InlineData("junit", "", "r:1:1: empty: no XML element in it")]
    [InlineData("junit", "<?xml version=\"1.0\"?>", "r:1:1: empty: no XML element in it")]
    [InlineData("junit", "<html><body/></html>", "r:1:2: not a JUnit report: the root element is <html>, expected <testsuites> or <testsuite>")]
    [InlineData("junit", "<testsuites>\n  <testsuite name=\"a\">\n    <testcase name=\"x\"/>\n", "r:4:1: truncated: the file ends before </testsuite> (still open: <testsuite>, <testsuites>)")]
    [InlineData("junit", "<testsuite>\n<testcase name=\"x\" time=\"fast\"/></testsuite>", "r:2:2: attribute time=\"fast\" of <testcase> is not a number")]
    [InlineData("junit", "<testsuite><testcase classname=\"a\"/></testsuite>", "r:1:13: a <testcase> without a name attribute")]
    [InlineData("junit", "<testsuite><testcase name=\"a\"><failure></testcase></testsuite>", "r:1:42: </testcase> closes the <failure> opened at 1:32 (a missing </failure>?)")]
    [InlineData("junit", "<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><testsuite name=\"&lol;\"/>", "r:1:56: uses the entity &lol; that the file does not define (entities of a DTD are not read)")]
    [InlineData("junit", "\u0001binary", "r:1:1: not text: character U+0001 cannot appear in XML (a binary or damaged file?)")]
    [InlineData("trx", "<TestRun><Results><UnitTestResult testName=\"a\" outcome=\"Weird\"/></Results></TestRun>", "r:1:20: outcome=\"Weird\" of <UnitTestResult> is not a TRX outcome")]
    [InlineData("trx", "<TestRun><Results><UnitTestResult testName=\"a\" duration=\"soon\" outcome=\"Passed\"/></Results></TestRun>", "r:1:20: duration=\"soon\" of <UnitTestResult> is not a time span")]
    [InlineData("trx", "<testsuite/>", "r:1:2: not a TRX report: the root element is <testsuite>, expected <TestRun>: this is a JUnit report (give it with --junit)")]
    [InlineData("trx", "<TestRun><Results><UnitTestResult outcome=\"Passed\"/>", "r:1:20: a <UnitTestResult> without a testName attribute")]
    [InlineData("cobertura", "<coverage><packages><package><classes><class filename=\"a.cs\"><lines><line hits=\"1\"/></lines></class></classes></package></packages></coverage>", "r:1:70: a <line> without a number attribute")]
    [InlineData("cobertura", "<coverage><packages><package><classes><class filename=\"a.cs\"><lines><line number=\"1\" hits=\"1\" branch=\"True\" condition-coverage=\"half\"/></lines></class></classes></package></packages></coverage>", "r:1:70: condition-coverage=\"half\" is not of the form \"50% (1/2)\"")]
    [InlineData("cobertura", "<coverage lines-covered=\"x\"/>", "r:1:2: attribute lines-covered=\"x\" of <coverage> is not a number")]
    [InlineData("cobertura", "<coverage><packages><package>", "r:1:30: truncated: the file ends before </package> (still open: <package>, <packages>, <coverage>)")]
    [InlineData("lcov", "", "r:1:1: empty: no LCOV records in it")]
    [InlineData("lcov", "SF:a.js\nDA:1,1\nDA:2,1\n", "r:4:1: truncated: the record of a.js (line 1) has no end_of_record")]
    [InlineData("lcov", "SF:a.js\nDA:one,1\nend_of_record\n", "r:2:4: expected DA:<line>,<hits>, got DA:one,1")]
    [InlineData("lcov", "DA:1,1\n", "r:1:4: DA: outside an SF: record")]
    [InlineData("lcov", "SF:a.js\nSF:b.js\n", "r:2:1: SF: before the end_of_record of a.js (line 1)")]
    [InlineData("lcov", "<?xml version=\"1.0\"?><coverage/>", "r:1:1: this is XML but not Cobertura: give Cobertura XML (a <coverage> root) or an LCOV tracefile")]
    [InlineData("lcov", "SF:a.js\nDA:1,1\nLINES:3\nend_of_record\n", "r:3:1: not an LCOV line: 'LINES:3' (LCOV lines start with SF:, DA:, BRDA:, FN:, LF:, LH: or end_of_record)")]
    [InlineData("junit", "{\"tests\": []}", "r:1:1: not XML: an XML report starts with '<' (is this the right file, or a report in another format?)")]
    [InlineData("cobertura", "<CoverageSession/>", "r:1:2: not a Cobertura coverage report: the root element is <CoverageSession>, expected <coverage>: this is an OpenCover report; ask the tool for Cobertura XML or LCOV")]
    [InlineData("lcov", "SF:a.js\nBRDA:1,0\nend_of_record\n", "r:2:6: expected BRDA:<line>,<block>,<branch>,<taken>, got BRDA:1,0")]
    [InlineData("sarif", "", "r:1:1: not valid JSON: The input does not contain any JSON tokens. Expected the input to start with a valid JSON token, when isFinalBlock is true")]
    [InlineData("sarif", "{\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    { \"results\": [ {\"ruleId\": \"a\"", "r:4:34: not valid JSON: Expected depth to be zero at the end of the JSON payload. There is an open JSON object or array that should be closed")]
    [InlineData("sarif", "{\"version\": \"2.1.0\"}", "r:1:1: not a SARIF log: no 'runs' array at the top level")]
    [InlineData("sarif", "{\"version\": \"1.0.0\", \"runs\": []}", "r:1:1: SARIF version 1.0.0 is not supported (2.1.0 is)")]
    [InlineData("sarif", "{\"version\": \"2.1.0\", \"runs\": [{\"results\": [42]}]}", "r:1:1: runs[0].results[0] is not an object")]
    [InlineData("sarif", "[1, 2]", "r:1:1: not a SARIF log: no 'runs' array at the top level")]
    public void Read_MalformedReport_IsAnErrorWithFileAndPosition(string format, string text, string expected)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        var act = () => Readers[format]("r", stream);
        act.Should().Throw<ReportException>().Which.Message.Should().Be(expected);
    }
}
