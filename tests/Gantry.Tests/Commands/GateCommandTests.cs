using System.Text.Json;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Server;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary><c>gantry gate evaluate</c> against a real embedded server, with report files on disk.</summary>
public sealed class GateCommandTests : IAsyncLifetime
{
    private EmbeddedServer embedded = null!;

    private string Server => embedded.Address;

    private string Data => embedded.Data;

    private string Folder => embedded.Folder;

    public async ValueTask InitializeAsync()
    {
        var text = $$"""
            version: 1
            {{SampleService.ShopServices()}}
            environments:
              staging: {}
              production: { gate: release, {{SampleService.OwnListen()}} }
            gates:
              release:
                categories:
                  tests:
                    criteria:
                      - { measure: failed, failWhen: "> 0", blocking: true }
                      - { measure: total, failWhen: "== 0", key: true }
                  coverage:
                    criteria:
                      - { measure: lines, warnWhen: "< 80%" }
                      - { measure: lines, warnWhen: "< previous - 2%" }
                  security:
                    criteria:
                      - { measure: critical, failWhen: "> 0", blocking: true }
                      - { measure: high, failWhen: "> 0" }
                  performance:
                    optional: true
                    jsonPath: $.latency.p95
                    criteria:
                      - { measure: value, failWhen: "> 200" }
            """;
        embedded = await EmbeddedServer.StartAsync(text, "gantry-gate-");
        Directory.CreateDirectory(Path.Combine(Folder, "out", "unit"));
        Directory.CreateDirectory(Path.Combine(Folder, "out", "it"));
        await File.WriteAllTextAsync(Path.Combine(Folder, "out", "unit", "TEST-cart.xml"), JUnit("cart", failed: false));
        await File.WriteAllTextAsync(Path.Combine(Folder, "out", "it", "TEST-api.xml"), JUnit("api", failed: false));
        await File.WriteAllTextAsync(Path.Combine(Folder, "failing.xml"), JUnit("api", failed: true));
        await File.WriteAllTextAsync(Path.Combine(Folder, "cov-85.xml"), Cobertura(85));
        await File.WriteAllTextAsync(Path.Combine(Folder, "cov-82.xml"), Cobertura(82));
        await File.WriteAllTextAsync(Path.Combine(Folder, "clean.sarif"), Sarif(null));
        await File.WriteAllTextAsync(Path.Combine(Folder, "high.sarif"), Sarif("7.5"));
        await File.WriteAllTextAsync(Path.Combine(Folder, "perf.json"), """{ "latency": { "p95": 180 } }""");
        await File.WriteAllTextAsync(Path.Combine(Folder, "truncated.xml"), "<testsuite name=\"x\">\n  <testcase name=\"a\">\n");

        // The same run of the same C code, as gcovr writes Cobertura (DOCTYPE line included) and as lcov writes a tracefile.
        await File.WriteAllTextAsync(Path.Combine(Folder, "gcovr.xml"), """
            <?xml version='1.0' encoding='UTF-8'?>
            <!DOCTYPE coverage SYSTEM 'http://cobertura.sourceforge.net/xml/coverage-04.dtd'>
            <coverage line-rate="0.75" lines-covered="6" lines-valid="8" version="gcovr 5.2"><sources><source>/build/src</source></sources><packages><package name=""><classes>
            <class name="calc_c" filename="calc.c"><methods/><lines><line number="1" hits="2" branch="false"/><line number="2" hits="2" branch="false"/><line number="3" hits="1" branch="false"/><line number="4" hits="1" branch="false"/><line number="5" hits="0" branch="false"/><line number="6" hits="1" branch="false"/><line number="8" hits="0" branch="false"/></lines></class>
            <class name="main_c" filename="main.c"><methods/><lines><line number="2" hits="1" branch="false"/></lines></class>
            </classes></package></packages></coverage>
            """);
        await File.WriteAllTextAsync(Path.Combine(Folder, "lcov.info"), "TN:\nSF:/build/src/main.c\nDA:2,1\nend_of_record\nTN:\nSF:/build/src/calc.c\nDA:1,2\nDA:2,2\nDA:3,1\nDA:4,1\nDA:5,0\nDA:6,1\nDA:8,0\nend_of_record\n");
    }

    public async ValueTask DisposeAsync()
    {
        await embedded.DisposeAsync();
    }

    private static string JUnit(string suite, bool failed) => $$"""
        <testsuite name="{{suite}}">
          <testcase classname="{{suite}}Tests" name="adds" time="0.5"/>
          <testcase classname="{{suite}}Tests" name="removes" time="0.5">{{(failed ? "<failure message=\"expected 1 but was 2\"/>" : string.Empty)}}</testcase>
        </testsuite>
        """;

    private static string Cobertura(int covered) => $$"""
        <coverage lines-covered="{{covered}}" lines-valid="100">
          <packages><package><classes><class filename="cart.cs"><lines>
          {{string.Join("\n", Enumerable.Range(1, 100).Select(i => $"<line number=\"{i}\" hits=\"{(i <= covered ? 1 : 0)}\"/>"))}}
          </lines></class></classes></package></packages>
        </coverage>
        """;

    private static string Sarif(string? severity) => $$"""
        { "version": "2.1.0", "runs": [ { "tool": { "driver": { "name": "scanner" } }, "results": [
          {{(severity is null ? string.Empty : $$"""{ "ruleId": "xss", "level": "error", "message": { "text": "reflected XSS" }, "properties": { "security-severity": "{{severity}}" } }""")}}
        ] } ] }
        """;

    private Task<(int Exit, string Out, string Err)> GateAsync(params string[] args) =>
        GantryCliTests.RunAsync([.. new[] { "gate", "evaluate", "--release", "shop:2.0" }.Concat(args.Select(a => a.Replace("@", Folder + "/", StringComparison.Ordinal))), "--server", Server, "--data", Data]);

    [Fact(Timeout = 60_000)]
    public async Task GateEvaluate_PassingReports_DecidesDeployAndExitsZero()
    {
        var (exit, output, error) = await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@cov-85.xml", "--sarif", "@clean.sarif", "--json", "performance=@perf.json");
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().StartWith("shop 2.0: gate release decides DEPLOY (score 100)\n  every criterion passed; score 100\n");
        output.Should().Contain("  tests          100  4 tests: 4 passed, 0 failed, 0 skipped, 2 s, from 2 files");
        output.Should().Contain("    pass    performance value: 180 passes");
    }

    [Fact(Timeout = 60_000)]
    public async Task GateEvaluate_FailedTestAndHighFinding_BlocksWithTheBlockingFailureFirstAndExitsFour()
    {
        var (exit, output, error) = await GateAsync("--junit", "@failing.xml", "--coverage", "@cov-85.xml", "--sarif", "@high.sarif");
        exit.Should().Be(ExitCodes.Blocked, error);
        var lines = output.Split('\n');
        lines[0].Should().Be("shop 2.0: gate release decides BLOCK (score 66.7)");
        lines[2].Should().Be("  BLOCKING  tests failed: 1 fails when > 0");
        lines[3].Should().Be("  FAILED    security high: 1 fails when > 0");
        output.Should().Contain("    failed  apiTests.removes: expected 1 but was 2");
    }

    [Fact(Timeout = 60_000)]
    public async Task GateEvaluate_OnlyANonBlockingFailure_RemediatesAndExitsOne()
    {
        var (exit, output, error) = await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@cov-85.xml", "--sarif", "@high.sarif", "--output", "json");
        exit.Should().Be(ExitCodes.Failed, error);
        using var json = JsonDocument.Parse(output);
        json.RootElement.GetProperty("decision").GetString().Should().Be("remediate");
        json.RootElement.GetProperty("reason").GetString().Should().Be("1 criterion failed: security high: 1 fails when > 0");
    }

    [Fact(Timeout = 60_000)]
    public async Task GateEvaluate_CoverageFallingFromThePreviousEvaluation_Warns()
    {
        (await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@cov-85.xml", "--sarif", "@clean.sarif")).Exit.Should().Be(ExitCodes.Success);
        var (exit, output, _) = await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@cov-82.xml", "--sarif", "@clean.sarif");
        exit.Should().Be(ExitCodes.Success, "one warning keeps the score at the pass threshold");
        output.Should().Contain("    warning coverage lines: 82.0% vs previous 85.0% (-3.0 points) warns when < previous - 2%");
    }

    [Fact(Timeout = 60_000)]
    public async Task GateEvaluate_NoSecurityReport_FailsTheCategoryInsteadOfPassingSilently()
    {
        var (exit, output, _) = await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@cov-85.xml");
        exit.Should().Be(ExitCodes.Blocked);
        output.Should().Contain("  BLOCKING  security critical: no SARIF report given (--sarif), so it cannot pass");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("--junit|@nothing/**/*.xml", "gantry: --junit '@nothing/**/*.xml': no file matches")]
    [InlineData("--junit|@truncated.xml", "gantry: @truncated.xml:3:1: truncated: the file ends before </testcase> (still open: <testcase>, <testsuite>)")]
    [InlineData("--sarif|@missing.sarif", "gantry: --sarif @missing.sarif: no such file")]
    [InlineData("--json|nonsense", "gantry: --json 'nonsense': expected CATEGORY=FILE")]
    [InlineData("--gate|nope", "gantry: no gate 'nope' in the manifest; it has release [unknown-gate]")]
    [InlineData("--json|perf=@truncated.xml", "gantry: @truncated.xml:1:1: not valid JSON")]
    public async Task GateEvaluate_BadInput_ExitsTwoWithOneLine(string arguments, string expected)
    {
        var (exit, _, error) = await GateAsync(arguments.Split('|'));
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().Be(expected.Replace("@", Folder + "/", StringComparison.Ordinal) + "\n");
    }

    [Fact(Timeout = 90_000)]
    public async Task GateOverride_RemediateOnly_LetsTheReleaseIntoTheGatedEnvironment()
    {
        (await GateAsync("--junit", "@failing.xml", "--coverage", "@cov-85.xml", "--sarif", "@clean.sarif")).Exit.Should().Be(ExitCodes.Blocked);
        var (exit, _, error) = await GantryCliTests.RunAsync("gate", "override", "--release", "shop:2.0", "--reason", "hotfix", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().Be("gantry: shop 2.0 is blocked by gate 'release' (1 blocking criterion failed: tests failed: 1 fails when > 0): a BLOCK cannot be overridden, only fixed [cannot-override]\n");

        (await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@cov-85.xml", "--sarif", "@high.sarif")).Exit.Should().Be(ExitCodes.Failed);
        (exit, _, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "2.0", "-e", "production", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().Contain("decided REMEDIATE");

        string output;
        (exit, output, error) = await GantryCliTests.RunAsync("gate", "override", "--release", "shop:2.0", "--reason", "XSS is behind the admin login; fix in 2.0.1", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success, error);
        output.Should().MatchRegex(@"^shop 2\.0: the REMEDIATE of gate release is overridden by \S+: XSS is behind the admin login; fix in 2\.0\.1\n  1 criterion failed: security high: 1 fails when > 0\n$");
        (exit, _, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "2.0", "-e", "production", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success, error);
    }

    [Fact(Timeout = 90_000)]
    public async Task Audit_GateDecisions_AreListedVerifiedExportedAndTamperingIsFound()
    {
        (await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@cov-85.xml", "--sarif", "@high.sarif")).Exit.Should().Be(ExitCodes.Failed);
        (await GantryCliTests.RunAsync("gate", "override", "--release", "shop:2.0", "--reason", "accepted risk", "--server", Server, "--data", Data)).Exit.Should().Be(ExitCodes.Success);

        var (exit, output, error) = await GantryCliTests.RunAsync("audit", "--service", "shop", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success, error);
        var lines = output.TrimEnd('\n').Split('\n');
        lines.Should().HaveCount(2);
        lines[0].Should().MatchRegex(@"^     2  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d  local-admin +gate\.evaluated +shop/2\.0  gate release: REMEDIATE \(score 83\.3\): 1 criterion failed: security high: 1 fails when > 0 \[from 127\.0\.0\.1, token [0-9a-f]{12}\]$", "event 1 is the local admin token's creation; each event says where the call came from");
        lines[1].Should().MatchRegex(@"gate\.overridden +shop/2\.0  gate release: REMEDIATE overridden \(1 criterion failed: security high: 1 fails when > 0\) \(why: accepted risk\) \[from 127\.0\.0\.1, token [0-9a-f]{12}\]$");

        (exit, output, _) = await GantryCliTests.RunAsync("audit", "verify", "--server", Server, "--data", Data);
        (exit, output).Should().Be((ExitCodes.Success, "3 events verified: the chain is intact\n"));
        (await GantryCliTests.RunAsync("audit", "export", "--server", Server, "--data", Data)).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(3)
            .And.OnlyContain(l => l.StartsWith("{\"seq\":", StringComparison.Ordinal));

        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Folder, "data", "gantry.db")}"))
        {
            connection.Open();
            using var tamper = connection.CreateCommand();
            tamper.CommandText = "UPDATE audit SET reason = 'nobody asked' WHERE seq = 3";
            tamper.ExecuteNonQuery();
        }

        (exit, output, _) = await GantryCliTests.RunAsync("audit", "verify", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Failed);
        output.Should().StartWith("audit trail broken: event 3 (gate.overridden by ");
    }

    [Fact(Timeout = 90_000)]
    public async Task Deploy_ToAnEnvironmentWithAGate_WaitsForADeployEvaluationOfThatRelease()
    {
        var (exit, _, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "2.0", "-e", "production", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().StartWith("gantry: production requires gate 'release' to decide DEPLOY for shop 2.0, and it was never evaluated");

        (await GateAsync("--junit", "@failing.xml", "--coverage", "@cov-85.xml", "--sarif", "@clean.sarif")).Exit.Should().Be(ExitCodes.Blocked);
        (exit, _, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "2.0", "-e", "production", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.BadInput);
        error.Should().Contain("its latest evaluation").And.Contain("decided BLOCK: 1 blocking criterion failed: tests failed: 1 fails when > 0");

        (await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@cov-85.xml", "--sarif", "@clean.sarif")).Exit.Should().Be(ExitCodes.Success);
        (exit, _, error) = await GantryCliTests.RunAsync("deploy", "shop", "-v", "2.0", "-e", "production", "--server", Server, "--data", Data);
        exit.Should().Be(ExitCodes.Success, error);

        (await GantryCliTests.RunAsync("deploy", "shop", "-v", "2.0", "-e", "staging", "--server", Server, "--data", Data)).Exit.Should().Be(ExitCodes.Success, "staging has no gate");
    }

    [Fact(Timeout = 60_000)]
    public async Task GateEvaluate_CoberturaWithADoctypeAndTheSameCodesLcov_GiveTheToolsOwnFiguresMergedOnce()
    {
        const string Figures = "lines 75.0% (6/8), 2 source files";
        (await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@gcovr.xml", "--sarif", "@clean.sarif")).Out.Should().Contain($"coverage        75  {Figures}, from {Folder}/gcovr.xml");
        (await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@lcov.info", "--sarif", "@clean.sarif")).Out.Should().Contain($"{Figures}, from {Folder}/lcov.info");
        (await GateAsync("--junit", "@out/**/*.xml", "--coverage", "@gcovr.xml", "@lcov.info", "@lcov.info", "--sarif", "@clean.sarif")).Out.Should().Contain($"{Figures}, from 3 files", "two formats and a copy of one run are one set of lines");
    }

    [Fact(Timeout = 60_000)]
    public async Task GateEvaluate_JsonOutput_ListsEveryFailureWithItsDetails()
    {
        var (exit, output, error) = await GateAsync("--junit", "@failing.xml", "--coverage", "@cov-85.xml", "--sarif", "@high.sarif", "--output", "json");
        exit.Should().Be(ExitCodes.Blocked, error);
        using var json = JsonDocument.Parse(output);
        json.RootElement.GetProperty("failures").EnumerateArray().Select(f => (f.GetProperty("category").GetString(), f.GetProperty("criterion").GetProperty("sentence").GetString()))
            .Should().Equal(("tests", "tests failed: 1 fails when > 0"), ("security", "security high: 1 fails when > 0"));
        var test = json.RootElement.GetProperty("failedTests").EnumerateArray().Single();
        (test.GetProperty("suite").GetString(), test.GetProperty("name").GetString(), test.GetProperty("message").GetString(), test.GetProperty("file").GetString())
            .Should().Be(("apiTests", "removes", "expected 1 but was 2", $"{Folder}/failing.xml"));
    }
}
