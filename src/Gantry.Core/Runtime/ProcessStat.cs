using System.Buffers.Text;
using System.Globalization;

namespace Gantry.Core.Runtime;

/// <summary>
/// Fields of <c>/proc/PID/stat</c>, read with one open, one read and one close into a stack buffer: a supervisor looks
/// at every pid-known instance several times a second, so no stream (whose advisory lock and size query cost as much
/// as the read) and no strings.
/// </summary>
public static class ProcessStat
{
    private const int StateField = 3;
    private const int SessionField = 6;
    private const int StartTimeField = 22;

    /// <summary>When the process started, in clock ticks after boot (field 22); null when it is gone.</summary>
    public static long? StartTime(int pid) => Read(pid, StartTimeField, out _);

    /// <summary>The session the process belongs to (field 6): an instance started in a session of its own leads it.</summary>
    public static int? Session(int pid) => Read(pid, SessionField, out _) is { } session ? (int)session : null;

    /// <summary>Running: present and not a zombie.</summary>
    public static bool IsAlive(int pid) => Read(pid, StartTimeField, out var state) is not null && state is not ('Z' or 'X');

    /// <summary>The process that started at <paramref name="startTime"/> still runs under <paramref name="pid"/> (not a zombie, not a later process given the same pid), in one read.</summary>
    public static bool IsRunning(int pid, long? startTime) => Read(pid, StartTimeField, out var state) is { } started && started == startTime && state is not ('Z' or 'X');

    /// <summary>The numeric field <paramref name="number"/> (after the state, field 3) and the state letter; null when the process is gone.</summary>
    private static long? Read(int pid, int number, out char state)
    {
        state = '\0';
        Span<byte> stat = stackalloc byte[1024];
        int length;
        try
        {
            Span<char> name = stackalloc char[32];
            name = name[..Format(name, pid)];
            using var handle = File.OpenHandle(new string(name));
            length = RandomAccess.Read(handle, stat, 0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // Fields after the command (which may hold spaces and parentheses) start after its last ')'.
        var rest = stat[..length];
        var close = rest.LastIndexOf((byte)')');
        if (close < 0 || close + 2 >= rest.Length)
        {
            return null;
        }

        rest = rest[(close + 2)..];
        state = (char)rest[0];
        for (var field = StateField; field < number; field++)
        {
            var space = rest.IndexOf((byte)' ');
            if (space < 0)
            {
                return null;
            }

            rest = rest[(space + 1)..];
        }

        return Utf8Parser.TryParse(rest, out long value, out _) ? value : null;
    }

    private static int Format(Span<char> into, int pid)
    {
        "/proc/".CopyTo(into);
        pid.TryFormat(into[6..], out var digits, default, CultureInfo.InvariantCulture);
        "/stat".CopyTo(into[(6 + digits)..]);
        return 6 + digits + 5;
    }
}
