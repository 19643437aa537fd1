using Gantry.Core.Manifest.Values;
using Gantry.Proxy.Routing;

namespace Gantry.Proxy.Health;

/// <summary>
/// The live state of one backend instance: requests in flight, passive health, draining. It outlives
/// routing-table swaps (config is replaced whole; this is runtime state, kept per address).
/// </summary>
public sealed class InstanceState : IDisposable
{
    private readonly TimeProvider time;
    private readonly CancellationTokenSource drain = new();
    private ITimer? drainTimer;
    private int inFlight;
    private int consecutiveFailures;
    private long ejectedUntil;
    private int draining;

    public InstanceState(Endpoint address, TimeProvider time)
    {
        Address = address;
        this.time = time;
        Authority = address.ToString();
        BaseAddress = "http://" + Authority;
    }

    public Endpoint Address { get; }

    public string Authority { get; }

    /// <summary><c>http://HOST:PORT</c>, to which the request's path and query are appended.</summary>
    public string BaseAddress { get; }

    public int InFlight => Volatile.Read(ref inFlight);

    /// <summary>How long in-flight requests may run once the instance is removed (from its route).</summary>
    public TimeSpan DrainTimeout { get; set; } = Core.Manifest.ServiceSpec.DefaultRouterDrain;

    public bool IsDraining => Volatile.Read(ref draining) == 1;

    public bool IsEjected => time.GetTimestamp() < Volatile.Read(ref ejectedUntil);

    /// <summary>May receive new requests: neither draining nor ejected.</summary>
    public bool IsAvailable => !IsDraining && !IsEjected;

    /// <summary>Cancelled when a drain times out: in-flight requests to a removed instance stop then.</summary>
    public CancellationToken DrainToken => drain.Token;

    public void RequestStarted() => Interlocked.Increment(ref inFlight);

    /// <summary>
    /// Records the end of a request; <paramref name="failed"/> counts towards passive ejection, a success resets the
    /// count, and null (the client's fault) leaves it as it is.
    /// </summary>
    public void RequestEnded(bool? failed, PassiveHealthSpec health)
    {
        Interlocked.Decrement(ref inFlight);
        if (failed == true)
        {
            RecordFailure(health);
        }
        else if (failed == false)
        {
            Volatile.Write(ref consecutiveFailures, 0);
        }
    }

    /// <summary>One more failure in a row; enough of them eject the instance for a while.</summary>
    public void RecordFailure(PassiveHealthSpec health)
    {
        if (Interlocked.Increment(ref consecutiveFailures) >= health.ConsecutiveFailures)
        {
            Volatile.Write(ref consecutiveFailures, 0);
            var until = time.GetTimestamp() + (long)(health.EjectFor.TotalSeconds * time.TimestampFrequency);
            Volatile.Write(ref ejectedUntil, until);
        }
    }

    public void Dispose()
    {
        drainTimer?.Dispose();
        drain.Dispose();
    }

    /// <summary>Stops new requests; cancels the in-flight ones after <paramref name="timeout"/>.</summary>
    public void StartDraining(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref draining, 1) == 0)
        {
            drainTimer = time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), drain, timeout, Timeout.InfiniteTimeSpan);
        }
    }
}
