namespace Gantry.Testing;

/// <summary>
/// What a test process does with signals, read from <c>/proc/PID/status</c>: a shell that runs <c>trap '' TERM</c> is
/// running before it has set the trap, and a SIGTERM sent in between ends it at once.
/// </summary>
public static class SignalMask
{
    /// <summary>Whether the process ignores SIGTERM (signal 15: bit 14 of <c>SigIgn</c>); false once it has gone.</summary>
    public static bool IgnoresSigterm(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << 14)) != 0;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Waits until the process ignores SIGTERM (its shell has set its trap).</summary>
    public static Task IgnoringSigtermAsync(int pid) =>
        Wait.UntilAsync(() => Task.FromResult(IgnoresSigterm(pid)), TimeSpan.FromSeconds(20), $"process {pid} ignoring SIGTERM");
}
