using Gantry.Core.Manifest;
using Gantry.Runtime.Probes;
using Microsoft.Extensions.Time.Testing;

namespace Gantry.Runtime.Tests.Probes;

/// <summary>
/// An instance taken back at a takeover was serving: it is judged by its readiness probe's failure threshold, an
/// interval apart, not by one probe (a slow answer on a busy machine took every task out of a new leader's first table).
/// </summary>
public sealed class TakenBackTests
{
    private static readonly ProbeSpec Readiness = new("/health/ready", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), FailureThreshold: 3, TimeSpan.Zero);

    [Fact(Timeout = 10_000)]
    public async Task APassingProbe_IsNoMiss_AndTheOnlyProbe()
    {
        var probes = new Answers(true);

        (await TakenBack.MissesAsync(probes.NextAsync, Readiness, new FakeTimeProvider(), TestContext.Current.CancellationToken)).Should().Be(0);
        probes.Asked.Should().Be(1);
    }

    [Fact(Timeout = 10_000)]
    public async Task OneSlowAnswer_IsProbedAgainAnIntervalLater_AndPasses()
    {
        var time = new FakeTimeProvider();
        var probes = new Answers(false, true);

        var judged = TakenBack.MissesAsync(probes.NextAsync, Readiness, time, TestContext.Current.CancellationToken);
        probes.Asked.Should().Be(1);
        time.Advance(Readiness.Interval - TimeSpan.FromMilliseconds(1));
        probes.Asked.Should().Be(1, "the next probe waits a whole interval");
        time.Advance(TimeSpan.FromMilliseconds(1));

        (await judged).Should().Be(0, "one failure below the threshold leaves a serving instance ready");
        probes.Asked.Should().Be(2);
    }

    [Fact(Timeout = 10_000)]
    public async Task FailingTheThreshold_InARow_IsThatManyMisses_AndNoMoreProbes()
    {
        var time = new FakeTimeProvider();
        var probes = new Answers(false, false, false, true);

        var judged = TakenBack.MissesAsync(probes.NextAsync, Readiness, time, TestContext.Current.CancellationToken);
        time.Advance(Readiness.Interval);
        time.Advance(Readiness.Interval);
        time.Advance(Readiness.Interval);

        (await judged).Should().Be(3);
        probes.Asked.Should().Be(3, "the threshold reached, the instance is not ready: no fourth probe");
    }

    [Fact(Timeout = 10_000)]
    public async Task AThresholdOfOne_IsOneProbe()
    {
        var probes = new Answers(false, true);

        (await TakenBack.MissesAsync(probes.NextAsync, Readiness with { FailureThreshold = 1 }, new FakeTimeProvider(), TestContext.Current.CancellationToken)).Should().Be(1);
        probes.Asked.Should().Be(1);
    }

    /// <summary>A probe that answers as told, in order, and counts how often it was asked.</summary>
    private sealed class Answers(params bool[] answers)
    {
        public int Asked { get; private set; }

        public Task<bool> NextAsync(CancellationToken ct) => Task.FromResult(answers[Asked++]);
    }
}
