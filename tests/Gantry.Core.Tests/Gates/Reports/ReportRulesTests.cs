using System.Text;
using System.Text.Json;
using Gantry.Core.Gates;
using Gantry.Core.Gates.Reports;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Tests.Gates.Reports;

/// <summary>
/// The counting rules of real producers: a DOCTYPE is read past (never fetched or expanded), every way of
/// writing "not run" is skipped, coverage is merged by source file and line across reports and formats, and
/// the JSON output carries every failure in full.
/// </summary>
public sealed class ReportRulesTests
{
    private static MemoryStream Text(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

    private const string Doctype = "<?xml version=\"1.0\"?>\n<!DOCTYPE coverage SYSTEM \"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">\n";

    [Fact(Timeout = 10_000)]
    public void Doctype_InCoberturaJUnitAndTrx_IsReadPastWithoutFetchingIt()
    {
        var cobertura = CoberturaReader.Read("c.xml", Text(Doctype + """
            <coverage lines-valid="3" lines-covered="2"><sources><source>/src</source></sources><packages><package><classes>
            <class name="a" filename="a.c"><lines><line number="1" hits="1"/><line number="2" hits="0"/><line number="3" hits="4"/></lines></class>
            </classes></package></packages></coverage>
            """));
        (cobertura.LinesCovered, cobertura.LinesValid).Should().Be((2, 3));

        var junit = JUnitReader.Read("j.xml", Text("<?xml version=\"1.0\"?><!DOCTYPE testsuite SYSTEM \"junit.dtd\"><testsuite><testcase name=\"a\"/></testsuite>"));
        junit.Total.Should().Be(1);
        var trx = TrxReader.Read("t.trx", Text("<!DOCTYPE TestRun><TestRun><Results><UnitTestResult testName=\"A.b\" outcome=\"Passed\"/></Results></TestRun>"));
        trx.Passed.Should().Be(1);

        // Entities a DTD declares are never expanded (no billion laughs): a document that needs them says so.
        var bomb = () => JUnitReader.Read("b.xml", Text("<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;\">]><testsuite><testcase name=\"&lol2;\"/></testsuite>"));
        bomb.Should().Throw<ReportException>().WithMessage("b.xml:1:*: uses the entity &lol2; that the file does not define (entities of a DTD are not read)");
    }

    [Fact(Timeout = 10_000)]
    public void NotRun_EveryProducersWay_IsSkipped()
    {
        var summary = JUnitReader.Read("r.xml", Text("""
            <testsuites disabled="9">
              <testsuite name="gtest" tests="3" disabled="1">
                <testcase name="Works" status="run" result="completed" classname="Calc"/>
                <testcase name="DISABLED_Later" status="notrun" result="suppressed" classname="Calc"/>
                <testcase name="Filtered" status="run" result="skipped" classname="Calc"><skipped/></testcase>
              </testsuite>
              <testsuite name="ctest" disabled="3">
                <testcase name="off" status="disabled"/>
                <testcase name="fine"/>
              </testsuite>
              <testsuite name="plain"><testcase name="ignored" status="ignored"/><testcase name="x"><skipped message="later"/></testcase></testsuite>
            </testsuites>
            """));

        // gtest: 1 run, 2 not run; ctest: 1 listed disabled and 2 more declared, 1 run; plain: 2 not run.
        (summary.Total, summary.Passed, summary.Skipped, summary.Failed).Should().Be((9, 2, 7, 0));
        var trx = TrxReader.Read("t.trx", Text("""
            <TestRun><Results>
              <UnitTestResult testName="A.ran" outcome="Passed"/><UnitTestResult testName="A.notExecuted" outcome="NotExecuted"/>
              <UnitTestResult testName="A.notRunnable" outcome="NotRunnable"/><UnitTestResult testName="A.aborted" outcome="Aborted"/>
            </Results></TestRun>
            """));
        (trx.Total, trx.Passed, trx.Skipped, trx.Errors).Should().Be((4, 1, 2, 1), "TRX's not-run outcomes are skipped, Aborted stays an error");
    }

    [Fact(Timeout = 10_000)]
    public void Coverage_MergedByFileAndLine_NotSummedAcrossMethodsReportsOrCopies()
    {
        // dotnet-coverage lists a line once per method that holds it, and its root totals count it each time.
        var perMethod = Doctype + """
            <coverage lines-valid="9" lines-covered="6"><packages><package><classes>
            <class name="Cart" filename="/src/Cart.cs"><methods>
              <method name="Add"><lines><line number="10" hits="1"/><line number="11" hits="1"/><line number="12" hits="0"/></lines></method>
              <method name="&lt;Add&gt;b__0"><lines><line number="11" hits="1"/><line number="12" hits="1"/></lines></method>
            </methods><lines><line number="10" hits="1"/><line number="11" hits="1"/><line number="12" hits="1"/><line number="13" hits="0"/></lines></class>
            </classes></package></packages></coverage>
            """;
        var one = CoberturaReader.Read("dotnet-coverage.xml", Text(perMethod));
        (one.LinesCovered, one.LinesValid).Should().Be((3, 4), "lines 10-13 of Cart.cs, each once, 13 never run");

        var lcov = "SF:/src/Cart.cs\nDA:10,1\nDA:11,0\nDA:12,0\nDA:13,1\nend_of_record\nSF:/src/Order.cs\nDA:1,1\nDA:2,0\nend_of_record\n";
        var merged = CoverageData.Merge([CoberturaReader.ReadData("a.xml", Text(perMethod)), LcovReader.ReadData("b.info", Text(lcov))]).Summary(["a.xml", "b.info"]);
        (merged.LinesCovered, merged.LinesValid, merged.SourceFiles, merged.Reports).Should().Be((5, 6, 2, 2), "Cart.cs 10-13 all covered by one report or the other, Order.cs 1 of 2");

        var twice = CoverageData.Merge([LcovReader.ReadData("b.info", Text(lcov)), LcovReader.ReadData("b.info", Text(lcov))]).Summary(["b.info", "b.info"]);
        (twice.LinesCovered, twice.LinesValid).Should().Be((3, 6), "the same file given twice counts once");

        // Cobertura's relative filenames meet LCOV's absolute ones.
        var relative = "<coverage><packages><package><classes><class filename=\"lib/a.py\"><lines><line number=\"1\" hits=\"0\"/><line number=\"2\" hits=\"0\"/></lines></class></classes></package></packages></coverage>";
        var absolute = "SF:/home/ci/repo/lib/a.py\nDA:1,1\nDA:2,0\nend_of_record\n";
        var across = CoverageData.Merge([CoberturaReader.ReadData("py.xml", Text(relative)), LcovReader.ReadData("py.info", Text(absolute))]).Summary(["py.xml", "py.info"]);
        (across.LinesCovered, across.LinesValid, across.SourceFiles).Should().Be((1, 2, 1));
    }

    [Fact(Timeout = 10_000)]
    public void Json_OfAnEvaluation_CarriesEachFailureInFull()
    {
        var tests = JUnitReader.Read("out/junit.xml", Text("""
            <testsuite name="cart"><testcase classname="com.example.CartTest" name="removesItem"><failure message="expected: &lt;1&gt; but was: &lt;2&gt;"/></testcase>
            <testcase classname="com.example.CartTest" name="adds"/></testsuite>
            """));
        var gate = Gantry.Core.Manifest.ManifestLoader.LoadText("""
            services:
              web: { process: { command: app, args: ["{port}"] }, listen: 127.0.0.1:8080, health: { readiness: { path: /ready } } }
            gates:
              release:
                categories:
                  tests:
                    criteria:
                      - { measure: failed, failWhen: "> 0", blocking: true }
            """).Manifest!.Gates[0];
        var evaluation = GateEvaluator.Evaluate(gate, "web", "2.0", GateInputs.None with { Tests = tests }, null, DateTimeOffset.UnixEpoch);

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(evaluation, GantryJson.Options));
        var failure = json.RootElement.GetProperty("failures")[0];
        failure.GetProperty("category").GetString().Should().Be("tests");
        failure.GetProperty("criterion").GetProperty("sentence").GetString().Should().Be("tests failed: 1 fails when > 0");
        var test = json.RootElement.GetProperty("failedTests")[0];
        (test.GetProperty("suite").GetString(), test.GetProperty("name").GetString(), test.GetProperty("message").GetString(), test.GetProperty("file").GetString())
            .Should().Be(("com.example.CartTest", "removesItem", "expected: <1> but was: <2>", "out/junit.xml"));
    }
}
