using System.Globalization;

namespace Gantry.Core.Runtime;

/// <summary>Fields of <c>/proc/PID/stat</c>.</summary>
public static class ProcessStat
{
    /// <summary>When the process started, in clock ticks after boot (field 22); null when it is gone.</summary>
    public static long? StartTime(int pid) => Field(pid, 22) is { } text && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>The session the process belongs to (field 6): an instance started in a session of its own leads it.</summary>
    public static int? Session(int pid) => Field(pid, 6) is { } text && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>Running: present and not a zombie.</summary>
    public static bool IsAlive(int pid) => Field(pid, 3) is { } state && state != "Z" && state != "X";

    private static string? Field(int pid, int number)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command (which may hold spaces and parentheses) start after its last ')'.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return number - 3 < rest.Length ? rest[number - 3] : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
