using System.Collections.Concurrent;
using Gantry.Core.Manifest.Values;

namespace Gantry.Proxy.Health;

/// <summary>Instance states by address, kept across routing-table swaps; instances dropped by a swap drain.</summary>
public sealed class InstanceRegistry(TimeProvider time)
{
    private readonly ConcurrentDictionary<Endpoint, InstanceState> states = new();

    /// <summary>The state of an instance present in the new table (a draining one comes back fresh).</summary>
    public InstanceState Get(Endpoint address, TimeSpan drainTimeout)
    {
        var state = states.AddOrUpdate(address, a => new InstanceState(a, time), (a, existing) => existing.IsDraining ? new InstanceState(a, time) : existing);
        state.DrainTimeout = drainTimeout;
        return state;
    }

    /// <summary>After a swap: every instance not in <paramref name="live"/> stops taking requests and drains.</summary>
    public void Retire(IReadOnlySet<Endpoint> live)
    {
        foreach (var (address, state) in states)
        {
            if (live.Contains(address))
            {
                continue;
            }

            state.StartDraining(state.DrainTimeout);

            // Forgotten only once its drain is over and nothing is in flight: a request that picked it just
            // before the swap may still read its drain token until then.
            if (state.DrainToken.IsCancellationRequested && state.InFlight == 0 && states.TryRemove(new KeyValuePair<Endpoint, InstanceState>(address, state)))
            {
                state.Dispose();
            }
        }
    }

    public IEnumerable<InstanceState> All => states.Values;
}
