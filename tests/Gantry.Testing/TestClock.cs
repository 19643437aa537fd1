namespace Gantry.Testing;

/// <summary>Where tests' fake clocks start unless a test needs another moment.</summary>
public static class TestClock
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
}
