namespace Gantry.Testing;

/// <summary>The system clock, plus a shift a test can add to (jumping ahead, say, 20 minutes); timers run in real time.</summary>
public sealed class ShiftedTimeProvider : TimeProvider
{
    private long shiftTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref shiftTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref shiftTicks));
}
