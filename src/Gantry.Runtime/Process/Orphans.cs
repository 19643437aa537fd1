using Gantry.Core.Runtime;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Gantry.Runtime.Process;

/// <summary>
/// Instances left running by a control plane that was killed (SIGKILL, power cut) before it could stop
/// them. Each instance carries its owner's mark in its environment; the next control plane with the same
/// mark finds them in /proc and stops them (with their children) before it starts its own.
/// </summary>
public static partial class Orphans
{
    public const string OwnerVariable = "GANTRY_OWNER";

    /// <summary>The processes whose environment holds <c>GANTRY_OWNER=<paramref name="owner"/></c>.</summary>
    public static IReadOnlyList<int> Find(string owner)
    {
        var found = new List<int>();
        if (!Directory.Exists("/proc"))
        {
            return found;
        }

        var mark = Encoding.UTF8.GetBytes($"{OwnerVariable}={owner}\0");
        var self = Environment.ProcessId;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == self)
            {
                continue;
            }

            try
            {
                var environ = File.ReadAllBytes(Path.Combine(dir, "environ"));
                var at = environ.AsSpan().IndexOf(mark);
                if (at == 0 || (at > 0 && environ[at - 1] == 0))
                {
                    found.Add(pid);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }

        return found;
    }

    /// <summary>
    /// Stops every process marked with <paramref name="owner"/> except those in the sessions of <paramref name="adopted"/>
    /// instances (an instance and whatever it started): SIGTERM, up to <paramref name="grace"/>, then SIGKILL. Returns how many.
    /// </summary>
    public static async Task<int> StopAsync(string owner, TimeSpan grace, TimeProvider time, CancellationToken ct, IReadOnlySet<int>? adopted = null)
    {
        var pids = Find(owner).Where(pid => adopted is null || !(ProcessStat.Session(pid) is { } session && adopted.Contains(session))).ToList();
        foreach (var pid in pids)
        {
            _ = Kill(pid, 15);
        }

        var started = time.GetTimestamp();
        while (pids.Any(Alive) && time.GetElapsedTime(started) < grace)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, ct);
        }

        foreach (var pid in pids.Where(Alive))
        {
            _ = Kill(pid, 9);
        }

        return pids.Count;
    }

    /// <summary>Sends <paramref name="signal"/> (15: SIGTERM) to <paramref name="pid"/>; false when there is no such process.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    // A zombie (exited, not yet reaped by its parent) is not running.
    private static bool Alive(int pid) => ProcessStat.IsAlive(pid);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
