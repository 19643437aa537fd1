using System.Diagnostics;
using System.Text;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Testing;
using NodaTime;

namespace Gantry.Core.Tests.Manifest;

public sealed class ManifestLoaderTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("gantry-manifest-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(temp, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A file of <paramref name="length"/> bytes, <paramref name="line"/> over and over, written in blocks (no 100 MB string in memory).</summary>
    private string WriteRepeated(string name, byte[] line, int length)
    {
        var block = new byte[line.Length * 1024];
        for (var at = 0; at < block.Length; at += line.Length)
        {
            line.CopyTo(block, at);
        }

        var path = Path.Combine(temp, name);
        using var file = File.Create(path);
        for (var left = length; left > 0; left -= block.Length)
        {
            file.Write(block, 0, Math.Min(left, block.Length));
        }

        return path;
    }

    [Fact(Timeout = 10_000)]
    public void LoadFile_AroundExample_ReadsJobsWatchAndObjectives()
    {
        var result = ManifestLoader.LoadFile(RepoPaths.Combine("examples", "around", "gantry.yaml"));

        result.Diagnostics.Should().BeEmpty();
        var shop = result.Manifest!.FindService("shop")!;
        shop.Jobs.Select(j => (j.Name, j.At)).Should().Equal(("migrate", JobHook.PreDeploy), ("smoke", JobHook.PreTraffic), ("down", JobHook.OnRollback));
        shop.Jobs[1].Should().Match<JobSpec>(j => j.Retries == 1 && j.Timeout == TimeSpan.FromSeconds(30) && !j.Shell && j.Args.SequenceEqual(new[] { "python3", "smoke.py" }));
        shop.Watch.Should().Be(new WatchSpec(TimeSpan.FromMinutes(2), ["errors"], WatchFailureAction.Rollback));
        var availability = shop.Slos[0];
        availability.Objective.Should().BeApproximately(0.999, 1e-12);
        availability.RollbackWithin.Should().Be(TimeSpan.FromHours(1));
        availability.Alerts.Should().Equal(SloSpec.DefaultAlerts(Core.Incidents.Severity.P1));
        shop.Slos[1].Should().Match<SloSpec>(s => s.Sli == SliKind.Latency && s.Threshold == TimeSpan.FromMilliseconds(250) && s.Period == TimeSpan.FromDays(7) && s.Alerts[0].Severity == Core.Incidents.Severity.P2);
    }

    [Fact(Timeout = 10_000)]
    public void LoadFile_ShopExample_ReadsTypedValues()
    {
        var result = ManifestLoader.LoadFile(RepoPaths.Combine("examples", "shop", "gantry.yaml"));

        result.Diagnostics.Should().BeEmpty();
        var shop = result.Manifest!.FindService("shop")!;
        shop.Listen.Should().Be(new Endpoint("127.0.0.1", 8080));
        shop.Replicas.Should().Be(2);
        shop.ProgressDeadline.Should().Be(TimeSpan.FromMinutes(5));
        shop.Runtime.Should().BeOfType<ProcessSpec>().Which.Command.Should().Be("dotnet");
        shop.Runtime.Env.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, string>("APP_VERSION", "{version}"));
        shop.Health.Startup!.Interval.Should().Be(TimeSpan.FromMilliseconds(500));
        shop.Health.Readiness.Should().Be(new ProbeSpec("/health/ready", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 3, TimeSpan.Zero));

        var canary = shop.Strategy.Should().BeOfType<CanaryStrategy>().Subject;
        canary.AbortScaleDownDelay.Should().Be(TimeSpan.FromSeconds(10));
        canary.Steps.Should().Equal(
            new SetWeightStep(10),
            new AnalysisStep(new AnalysisRef(["slo"])),
            new SetWeightStep(50),
            new PauseStep(TimeSpan.FromSeconds(30)),
            new AnalysisStep(new AnalysisRef(["slo", "latency-vs-baseline"])),
            new SetWeightStep(100));

        var slo = result.Manifest.FindAnalysis("slo")!;
        slo.Interval.Should().Be(TimeSpan.FromSeconds(5));
        slo.Count.Should().Be(3);
        slo.Metrics[0].Query.Should().Be(new BuiltinQuery(BuiltinMetric.ErrorRate, null));
        slo.Metrics[0].FailWhen.Should().Be(new Condition(ComparisonOperator.GreaterThan, BaselineRelation.None, new Quantity(0.01, QuantityKind.Ratio), null));
        slo.Metrics[1].FailWhen!.Operand.Should().Be(new Quantity(0.5, QuantityKind.Duration));
        var baseline = result.Manifest.FindAnalysis("latency-vs-baseline")!;
        baseline.Metrics[0].FailWhen.Should().Be(new Condition(ComparisonOperator.GreaterThan, BaselineRelation.Plus, new Quantity(0.1, QuantityKind.Duration), null));
        baseline.Metrics[1].Judge!.AllowedIncrease.Should().Be(new Percentage(10));
        baseline.Metrics[1].Judge!.Method.Should().Be(JudgeMethod.Sequential);
        baseline.Metrics[1].Judge!.Tolerance.Should().Be(TimeSpan.FromMilliseconds(5));
        baseline.Metrics[2].Judge!.Alpha.Should().Be(0.05);
        canary.Baseline.Should().Be(CanaryBaseline.Fresh);

        var production = result.Manifest.FindEnvironment("production")!;
        production.Promotion.Should().Be(new PromotionSpec("staging", TimeSpan.FromHours(1), false));
        production.Approvals!.From.Should().Equal("release-managers");
        production.Windows.Single().Days.Should().Equal(IsoDayOfWeek.Tuesday, IsoDayOfWeek.Thursday);
        production.Windows.Single().Zone.Id.Should().Be("America/New_York");
        production.Windows.Single().From.Should().Be(new LocalTime(10, 0));
        production.Freezes.Single().Monthly.Should().Be(new MonthlyDays(28, 3));
        production.Freezes.Single().Monthly!.WrapsMonthEnd.Should().BeTrue();
    }

    [Theory(Timeout = 10_000)]
    [InlineData("blue-green.yaml")]
    [InlineData("rolling.yaml")]
    public void LoadFile_StrategyExamples_AreValidWithTheirStrategy(string file)
    {
        var result = ManifestLoader.LoadFile(RepoPaths.Combine("examples", "strategies", file));

        result.Diagnostics.Should().BeEmpty();
        var strategy = result.Manifest!.FindService("shop")!.Strategy;
        if (file == "rolling.yaml")
        {
            strategy.Should().Be(new RollingStrategy(CountOrPercent.FromCount(1), CountOrPercent.FromCount(0)));
        }
        else
        {
            var bg = strategy.Should().BeOfType<BlueGreenStrategy>().Subject;
            bg.PreviewListen.Should().Be(new Endpoint("127.0.0.1", 8081));
            bg.AutoPromotionSeconds.Should().Be(10);
            bg.PrePromotionAnalysis!.Templates.Should().Equal("smoke");
        }
    }

    [Fact(Timeout = 10_000)]
    public void LoadText_MergeKeyFromExtensionField_ExplicitKeysWin()
    {
        var result = ManifestLoader.LoadText("""
            x-defaults: &defaults
              replicas: 3
              listen: 127.0.0.1:1
              health: { readiness: { path: /ready } }
            services:
              shop:
                <<: *defaults
                listen: 127.0.0.1:8080
                process: { command: app, args: ["{port}"] }
            """);

        result.Diagnostics.Should().BeEmpty();
        var shop = result.Manifest!.FindService("shop")!;
        shop.Replicas.Should().Be(3);
        shop.Listen.Port.Should().Be(8080);
    }

    [Fact(Timeout = 10_000)]
    public void LoadFile_SameTextTwice_GivesEqualManifests()
    {
        var path = RepoPaths.Combine("examples", "shop", "gantry.yaml");

        var first = ManifestLoader.LoadFile(path).Manifest;
        var second = ManifestLoader.LoadFile(path).Manifest;

        first.Should().NotBeSameAs(second);
        first.Should().Be(second, "manifests are values: equal text gives equal records, lists included");
        (first! with { Services = [first.Services[0] with { Replicas = 3 }] }).Should().NotBe(second);
    }

    [Fact(Timeout = 10_000)]
    public void LoadText_NoStrategy_DefaultsToRollingOneAtATime()
    {
        var result = ManifestLoader.LoadText("services:\n  shop:\n    process: { command: app, args: [\"{port}\"] }\n    listen: 127.0.0.1:8080\n    health: { readiness: { path: /ready } }\n");

        result.Manifest!.Services.Single().Strategy.Should().Be(RollingStrategy.Default);
        result.Manifest.Services.Single().Replicas.Should().Be(1);
        result.Manifest.Services.Single().ProgressDeadline.Should().Be(TimeSpan.FromMinutes(10));
    }

    [Fact(Timeout = 10_000)]
    public void LoadText_WarningsOnly_StillGivesAManifest()
    {
        var result = ManifestLoader.LoadText("services:\n  shop:\n    process: { command: app }\n    listen: 127.0.0.1:8080\n");

        result.Succeeded.Should().BeTrue();
        result.WarningCount.Should().Be(2);
        result.Diagnostics.Select(d => d.Position).Should().BeInAscendingOrder();
    }

    public static TheoryData<string, Func<ManifestLoaderTests, string>, string> BadFiles() => new()
    {
        { "missing file", t => Path.Combine(t.temp, "absent.yaml"), "1:1: no such file" },
        { "directory", t => t.temp, "1:1: this is a directory; pass the manifest file" },
        { "empty file", t => t.Write("empty.yaml", []), "1:1: the manifest is empty; it needs at least a 'services' section" },
        { "only comments", t => t.Write("comments.yaml", "# nothing here\n\n"u8.ToArray()), "1:1: the manifest is empty; it needs at least a 'services' section" },
        { "binary file", t => t.Write("binary.yaml", [0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00]), "1:1: this is a binary file (a NUL byte at offset 6), not a YAML manifest" },
        { "not UTF-8", t => t.Write("latin1.yaml", [.. "services:\n  caf"u8, 0xe9, .. ": {}\n"u8]), "1:1: the file is not UTF-8 text (invalid byte at offset 15)" },
        { "50 MB file", t => t.WriteRepeated("huge.yaml", "services: {}\n# padding padding padding padding padding padding padding padding\n"u8.ToArray(), 50 * 1024 * 1024), "1:1: the file is 50.0 MB; a manifest may be at most 4 MB" },
        { "billion laughs", t => t.Write("bomb.yaml", Encoding.UTF8.GetBytes(BillionLaughs())), "the document expands to more than 200,000 nodes through aliases (a YAML bomb?)" },
        { "deep nesting", t => t.Write("deep.yaml", Encoding.UTF8.GetBytes("services: " + new string('[', 5000) + new string(']', 5000) + "\n")), "nesting is deeper than 64 levels" },
    };

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(BadFiles))]
    public void LoadFile_BadFile_GivesOneClearErrorWithinASecond(string what, Func<ManifestLoaderTests, string> make, string expected)
    {
        var path = make(this);
        var watch = Stopwatch.StartNew();

        var result = ManifestLoader.LoadFile(path);

        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1), what);
        result.Manifest.Should().BeNull();
        var single = result.Diagnostics.Should().ContainSingle().Subject;
        single.Severity.Should().Be(Severity.Error);
        $"{single.Line}:{single.Column}: {single.Message}".Should().Contain(expected);
        single.ToString().Should().StartWith($"{path}:").And.NotContain("\n");
    }

    private static string BillionLaughs()
    {
        var sb = new StringBuilder("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (var i = 1; i < 10; i++)
        {
            sb.Append($"a{i}: &a{i} [");
            sb.AppendJoin(", ", Enumerable.Repeat($"*a{i - 1}", 10));
            sb.Append("]\n");
        }

        return sb.Append("services: *a9\n").ToString();
    }
}
