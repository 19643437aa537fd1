using System.Diagnostics;
using System.Globalization;
using Gantry.Core.Runtime;
using Gantry.Runtime.Process;

namespace Gantry.Runtime.Tests.Process;

/// <summary>
/// How a supervisor learns that an instance ended without looking at it: its pidfd, for a child of this process and
/// for a process it only knows by pid (an adopted instance), told within a moment of the kill, and never for a later
/// process that took a pid.
/// </summary>
public sealed class ExitWatchTests
{
    private static readonly TimeSpan Told = TimeSpan.FromSeconds(2);

    [Fact(Timeout = 20_000)]
    public async Task AChild_Killed_IsToldEnded()
    {
        using var child = System.Diagnostics.Process.Start(new ProcessStartInfo("/bin/sleep", "30"))!;
        using var watched = ExitWatch.Watch(child.Id, ProcessStat.StartTime(child.Id));

        Assert.NotNull(watched);
        await Task.Delay(300, TestContext.Current.CancellationToken);
        Assert.False(watched.Exited.IsCompleted);
        child.Kill();
        await watched.Exited.WaitAsync(Told, TestContext.Current.CancellationToken);
    }

    [Fact(Timeout = 20_000)]
    public async Task AProcessKnownByPidOnly_Killed_IsToldEnded_AndOthersStillRun()
    {
        var (pid, start) = await OrphanAsync();
        var (other, otherStart) = await OrphanAsync();
        try
        {
            using var watched = ExitWatch.Watch(pid, start);
            using var still = ExitWatch.Watch(other, otherStart);
            Assert.NotNull(watched);
            Assert.NotNull(still);

            System.Diagnostics.Process.GetProcessById(pid).Kill();
            await watched.Exited.WaitAsync(Told, TestContext.Current.CancellationToken);
            await Task.Delay(200, TestContext.Current.CancellationToken);
            Assert.False(still.Exited.IsCompleted);
            Assert.True(ProcessStat.IsAlive(other));
        }
        finally
        {
            System.Diagnostics.Process.GetProcessById(other).Kill();
        }
    }

    [Fact(Timeout = 20_000)]
    public async Task AnotherStartTimeUnderThePid_OrAGonePid_IsEndedAtOnce()
    {
        using var child = System.Diagnostics.Process.Start(new ProcessStartInfo("/bin/sleep", "30"))!;
        try
        {
            using var later = ExitWatch.Watch(child.Id, ProcessStat.StartTime(child.Id) - 1);
            Assert.True(later!.Exited.IsCompleted);
        }
        finally
        {
            child.Kill();
            await child.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        using var gone = ExitWatch.Watch(child.Id, 1);
        Assert.True(gone!.Exited.IsCompleted);
    }

    [Fact(Timeout = 20_000)]
    public async Task AWatchDisposed_WhileItsProcessRuns_LeavesNoDescriptorOpen()
    {
        var (pid, start) = await OrphanAsync();
        try
        {
            using (ExitWatch.Watch(pid, start))
            {
                Assert.Contains(pid, PidfdsOpen());
            }

            var deadline = Stopwatch.StartNew();
            while (PidfdsOpen().Contains(pid) && deadline.Elapsed < Told)
            {
                await Task.Delay(20, TestContext.Current.CancellationToken);
            }

            Assert.DoesNotContain(pid, PidfdsOpen());
        }
        finally
        {
            System.Diagnostics.Process.GetProcessById(pid).Kill();
        }
    }

    /// <summary>The pids this process holds a pidfd of (other tests watch their own instances meanwhile).</summary>
    private static List<int> PidfdsOpen() =>
        [.. new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos().Where(f => f.LinkTarget == "anon_inode:[pidfd]")
            .SelectMany(f => Lines($"/proc/self/fdinfo/{f.Name}")).Where(l => l.StartsWith("Pid:", StringComparison.Ordinal))
            .Select(l => int.Parse(l[4..].Trim(), CultureInfo.InvariantCulture))];

    private static string[] Lines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (IOException)
        {
            return []; // closed meanwhile
        }
    }

    /// <summary>A <c>sleep</c> whose parent (a shell) has exited: not a child of this process, as an adopted instance.</summary>
    private static async Task<(int Pid, long? Start)> OrphanAsync()
    {
        using var shell = System.Diagnostics.Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "sleep 30 >/dev/null 2>&1 & echo $!"]) { RedirectStandardOutput = true })!;
        var pid = int.Parse((await shell.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken)).Trim(), CultureInfo.InvariantCulture);
        await shell.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (pid, ProcessStat.StartTime(pid));
    }
}
