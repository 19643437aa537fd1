using System.Runtime.InteropServices;

namespace Gantry.NativeCli;

/// <summary>The full gantry program, installed beside the native client as <see cref="FileName"/>: it replaces this process (execv, or execve when runtime settings are added for the command), so its exit code, output and signals are the command's own.</summary>
internal static partial class FullProgram
{
    public const string FileName = "gantry-full";

    /// <summary>Runs the full program with the same arguments; returns only if it could not be started.</summary>
    public static int Run(string[] args, TextWriter error)
    {
        var directory = Path.GetDirectoryName(Environment.ProcessPath) ?? ".";
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            error.WriteLine($"gantry: {path} is missing (the full program, which runs every command but the few this one answers): install gantry again");
            return ExitCodes.Failed;
        }

        // The name it was called by stays its first argument: the full program finds itself through /proc/self/exe.
        var self = Environment.GetCommandLineArgs() is [var first, ..] ? first : path;
        string?[] argv = [self, .. args, null];
        var added = StartSettings.For(args, System.Environment.GetEnvironmentVariable);
        if (added.Count == 0)
        {
            Execv(path, argv); // the environment exactly as it came, byte for byte
        }
        else
        {
            Execve(path, argv, EnvironmentWith(added));
        }

        error.WriteLine($"gantry: cannot run {path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        return ExitCodes.Failed;
    }

    /// <summary>This process's environment with <paramref name="added"/>: what the runtime of the full program should start with for the command (<see cref="StartSettings"/>).</summary>
    private static string?[] EnvironmentWith(IReadOnlyList<KeyValuePair<string, string>> added)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            variables[(string)e.Key] = (string?)e.Value ?? string.Empty;
        }

        foreach (var (name, value) in added)
        {
            variables[name] = value;
        }

        return [.. variables.Select(v => v.Key + "=" + v.Value), null];
    }

    [LibraryImport("libc", EntryPoint = "execv", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Execv(string path, string?[] argv);

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Execve(string path, string?[] argv, string?[] envp);
}
