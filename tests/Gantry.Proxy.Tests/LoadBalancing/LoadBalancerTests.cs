using Gantry.Proxy.Health;
using Gantry.Proxy.LoadBalancing;
using Gantry.Proxy.Routing;
using Gantry.Testing;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Tests.LoadBalancing;

public sealed class LoadBalancerTests
{
    private static InstanceState[] Instances(FakeTimeProvider time, int n) =>
        [.. Enumerable.Range(0, n).Select(i => new InstanceState(new Endpoint("127.0.0.1", 6000 + i), time))];

    [Fact(Timeout = 10_000)]
    public void RoundRobin_ThreeInstances_EachGetsATurnAndUnavailableAreSkipped()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var instances = Instances(time, 3);
        var balancer = new RoundRobinBalancer();

        Enumerable.Range(0, 300).Select(_ => balancer.Pick(instances)).GroupBy(i => i).Select(g => g.Count()).Should().Equal(100, 100, 100);
        instances[1].StartDraining(TimeSpan.FromSeconds(1));
        Enumerable.Range(0, 100).Select(_ => balancer.Pick(instances)).Should().NotContain(1);
    }

    [Fact(Timeout = 10_000)]
    public void LeastRequests_BusyInstance_IsAvoided()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var instances = Instances(time, 3);
        instances[0].RequestStarted();
        instances[0].RequestStarted();
        instances[2].RequestStarted();

        Enumerable.Range(0, 10).Select(_ => new LeastRequestsBalancer().Pick(instances)).Should().OnlyContain(i => i == 1);
    }

    [Fact(Timeout = 10_000)]
    public void PowerOfTwo_OneAvailable_IsAlwaysFound()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var instances = Instances(time, 4);
        foreach (var i in new[] { 0, 1, 3 })
        {
            instances[i].StartDraining(TimeSpan.FromSeconds(1));
        }

        Enumerable.Range(0, 200).Select(_ => new PowerOfTwoChoicesBalancer().Pick(instances)).Should().OnlyContain(i => i == 2);
        instances[2].StartDraining(TimeSpan.FromSeconds(1));
        new PowerOfTwoChoicesBalancer().Pick(instances).Should().Be(-1);
    }

    [Fact(Timeout = 10_000)]
    public void PassiveHealth_ConsecutiveFailures_EjectUntilBackOffPasses()
    {
        var time = new FakeTimeProvider(TestClock.Start);
        var instance = Instances(time, 1)[0];
        var health = new PassiveHealthSpec(3, TimeSpan.FromSeconds(10));

        foreach (var failed in new[] { true, true, false, true, true })
        {
            instance.RequestStarted();
            instance.RequestEnded(failed, health);
        }

        instance.IsAvailable.Should().BeTrue("a success in between resets the count");
        instance.RequestStarted();
        instance.RequestEnded(true, health);
        instance.IsAvailable.Should().BeFalse("three failures in a row eject it");
        time.Advance(TimeSpan.FromSeconds(9));
        instance.IsAvailable.Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(1));
        instance.IsAvailable.Should().BeTrue("the back-off is over");
    }
}
