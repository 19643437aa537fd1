using System.Diagnostics;

namespace Gantry.Core.Runtime;

/// <summary>
/// How the data plane starts processes that must outlive their starter: in a session of their own (a terminal's
/// Ctrl+C or the starter's death does not reach them), output appended to a file rather than a pipe (a pipe breaks
/// when its reader dies), no standard input. The started process keeps the pid the starter sees: the shell and
/// <c>setsid</c> replace themselves with it.
/// </summary>
public static class DetachedProcess
{
    public static ProcessStartInfo Info(string fileName, IEnumerable<string> arguments, string logFile)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        var setsid = File.Exists("/usr/bin/setsid") ? "/usr/bin/setsid" : "setsid";
        foreach (var argument in new[] { "-c", $"log=$1; shift; exec {setsid} \"$@\" >>\"$log\" 2>&1 </dev/null", "gantry-detached", logFile, fileName }.Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }
}
