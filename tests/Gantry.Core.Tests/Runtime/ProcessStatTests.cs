using System.Diagnostics;
using Gantry.Core.Runtime;

namespace Gantry.Core.Tests.Runtime;

/// <summary>
/// How a supervisor knows a pid-known instance still runs: <c>/proc/PID/stat</c> read in one go, fields counted after
/// the command's last parenthesis (a command may hold spaces and parentheses), a later process under a reused pid told
/// apart by its start time.
/// </summary>
public sealed class ProcessStatTests
{
    [Fact(Timeout = 10_000)]
    public void ThisProcess_FieldsAsTheKernelWritesThem()
    {
        var pid = Environment.ProcessId;
        var fields = File.ReadAllText($"/proc/{pid}/stat");
        var rest = fields[(fields.LastIndexOf(')') + 2)..].Split(' ');

        Assert.True(ProcessStat.IsAlive(pid));
        Assert.Equal(long.Parse(rest[22 - 3], System.Globalization.CultureInfo.InvariantCulture), ProcessStat.StartTime(pid));
        Assert.Equal(int.Parse(rest[6 - 3], System.Globalization.CultureInfo.InvariantCulture), ProcessStat.Session(pid));
        Assert.True(ProcessStat.IsRunning(pid, ProcessStat.StartTime(pid)));
        Assert.False(ProcessStat.IsRunning(pid, ProcessStat.StartTime(pid) - 1));
        Assert.False(ProcessStat.IsRunning(pid, null));
    }

    [Fact(Timeout = 20_000)]
    public async Task ACommandWithSpacesAndParentheses_IsReadAfterItsLastParenthesis_AndAGoneProcessIsGone()
    {
        var dir = Directory.CreateTempSubdirectory("gantry-stat-");
        try
        {
            // The kernel's command field is the executable's name: ") 1 2 (x" would shift every field of a naive split.
            var odd = Path.Combine(dir.FullName, ") 1 2 (x");
            File.Copy("/bin/sleep", odd); // with its mode: executable
            using var process = Process.Start(new ProcessStartInfo(odd, "30"))!;
            var pid = process.Id;
            var started = ProcessStat.StartTime(pid);

            Assert.Contains(") 1 2 (x)", await File.ReadAllTextAsync($"/proc/{pid}/stat"), StringComparison.Ordinal);
            Assert.NotNull(started);
            Assert.True(started >= ProcessStat.StartTime(Environment.ProcessId));
            Assert.True(ProcessStat.IsAlive(pid));
            Assert.True(ProcessStat.IsRunning(pid, started));

            process.Kill();
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.False(ProcessStat.IsAlive(pid));
            Assert.Null(ProcessStat.StartTime(pid));
            Assert.False(ProcessStat.IsRunning(pid, started));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
