using Gantry.Proxy.Health;
using Gantry.Testing;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Tests.Health;

public sealed class InstanceRegistryTests
{
    private static readonly Endpoint A = new("127.0.0.1", 7001);
    private static readonly Endpoint B = new("127.0.0.1", 7002);

    [Fact(Timeout = 10_000)]
    public void Retire_IdleInstance_StaysReadableUntilItsDrainIsOver()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var registry = new InstanceRegistry(time);
        var a = registry.Get(A, TimeSpan.FromSeconds(5));
        registry.Get(B, TimeSpan.FromSeconds(5));

        registry.Retire(new HashSet<Endpoint> { B });

        a.IsDraining.Should().BeTrue();
        a.IsAvailable.Should().BeFalse("a retired instance takes no new requests");
        a.DrainToken.IsCancellationRequested.Should().BeFalse("a request that picked it just before the swap can still use it");
        registry.All.Should().Contain(a);
    }

    [Fact(Timeout = 10_000)]
    public void Retire_DrainTimeoutPasses_CancelsInFlightThenForgetsTheInstance()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var registry = new InstanceRegistry(time);
        var a = registry.Get(A, TimeSpan.FromSeconds(5));
        a.RequestStarted();
        registry.Retire(new HashSet<Endpoint>());

        time.Advance(TimeSpan.FromSeconds(4));
        a.DrainToken.IsCancellationRequested.Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(1));
        a.DrainToken.IsCancellationRequested.Should().BeTrue("in-flight requests are cancelled when the drain timeout passes");

        registry.Retire(new HashSet<Endpoint>());
        registry.All.Should().Contain(a, "a request is still in flight");
        a.RequestEnded(failed: false, Gantry.Proxy.Routing.PassiveHealthSpec.Default);
        registry.Retire(new HashSet<Endpoint>());
        registry.All.Should().BeEmpty();
    }

    [Fact(Timeout = 10_000)]
    public void Get_AfterRetire_GivesAFreshInstanceAndKeepsLiveOnes()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var registry = new InstanceRegistry(time);
        var a = registry.Get(A, TimeSpan.FromSeconds(5));
        var b = registry.Get(B, TimeSpan.FromSeconds(5));
        registry.Retire(new HashSet<Endpoint> { B });

        var again = registry.Get(A, TimeSpan.FromSeconds(5));

        again.Should().NotBeSameAs(a, "an instance that comes back is not draining");
        again.IsAvailable.Should().BeTrue();
        registry.Get(B, TimeSpan.FromSeconds(5)).Should().BeSameAs(b, "live instances keep their state across swaps");
    }
}
