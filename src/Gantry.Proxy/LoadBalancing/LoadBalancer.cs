using Gantry.Proxy.Health;
using Gantry.Proxy.Routing;

namespace Gantry.Proxy.LoadBalancing;

/// <summary>Chooses an instance within a group. Implementations are thread-safe and allocation-free.</summary>
public interface ILoadBalancer
{
    /// <summary>The index of an available instance, or -1 when none is.</summary>
    int Pick(InstanceState[] instances);
}

public static class LoadBalancers
{
    public static ILoadBalancer Create(LoadBalancingPolicy policy) => policy switch
    {
        LoadBalancingPolicy.LeastRequests => new LeastRequestsBalancer(),
        LoadBalancingPolicy.PowerOfTwoChoices => new PowerOfTwoChoicesBalancer(),
        _ => new RoundRobinBalancer(),
    };
}

/// <summary>Each available instance in turn.</summary>
public sealed class RoundRobinBalancer : ILoadBalancer
{
    private uint next;

    public int Pick(InstanceState[] instances)
    {
        var start = Interlocked.Increment(ref next);
        for (var i = 0; i < instances.Length; i++)
        {
            var index = (int)((start + (uint)i) % (uint)instances.Length);
            if (instances[index].IsAvailable)
            {
                return index;
            }
        }

        return -1;
    }
}

/// <summary>The available instance with the fewest requests in flight; ties rotate.</summary>
public sealed class LeastRequestsBalancer : ILoadBalancer
{
    private uint next;

    public int Pick(InstanceState[] instances)
    {
        var start = Interlocked.Increment(ref next);
        var best = -1;
        for (var i = 0; i < instances.Length; i++)
        {
            var index = (int)((start + (uint)i) % (uint)instances.Length);
            if (instances[index].IsAvailable && (best < 0 || instances[index].InFlight < instances[best].InFlight))
            {
                best = index;
            }
        }

        return best;
    }
}

/// <summary>Two random available instances; the one with fewer requests in flight.</summary>
public sealed class PowerOfTwoChoicesBalancer : ILoadBalancer
{
    public int Pick(InstanceState[] instances)
    {
        if (instances.Length <= 1)
        {
            return instances.Length == 1 && instances[0].IsAvailable ? 0 : -1;
        }

        var a = Random.Shared.Next(instances.Length);
        var b = Random.Shared.Next(instances.Length - 1);
        b = b >= a ? b + 1 : b;
        if (instances[a].IsAvailable && instances[b].IsAvailable)
        {
            return instances[b].InFlight < instances[a].InFlight ? b : a;
        }

        if (instances[a].IsAvailable || instances[b].IsAvailable)
        {
            return instances[a].IsAvailable ? a : b;
        }

        // Both unavailable: fall back to a scan, so that one healthy instance is still found.
        return Array.FindIndex(instances, i => i.IsAvailable);
    }
}
