using System.Diagnostics;
using Gantry.Core.Manifest;
using Gantry.Core.Runtime;
using Gantry.Runtime.Process;
using Gantry.Testing;

namespace Gantry.Runtime.Tests.Process;

/// <summary>What an instance process can see of the control plane: a clean environment, never the data directory, never root.</summary>
public sealed class InstanceIsolationTests : IAsyncLifetime
{
    private static readonly string ShopFolder = RepoPaths.Combine("examples", "shop");
    private readonly string data = Directory.CreateTempSubdirectory("gantry-isolation-").FullName;
    private ProcessRuntime runtime = null!;

    public ValueTask InitializeAsync()
    {
        runtime = new ProcessRuntime(TimeProvider.System, null, null, InstanceIsolation.ForServer(data));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await runtime.DisposeAsync();
        Directory.Delete(data, recursive: true);
    }

    private static ServiceSpec Shop => ManifestLoader.LoadFile(Path.Combine(ShopFolder, "gantry.yaml")).Manifest!.FindService("shop")!;

    private async Task<InstanceStatus> WaitForAsync(Func<InstanceStatus, bool> condition)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(45))
        {
            if (runtime.Observe().FirstOrDefault(condition) is { } found)
            {
                return found;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"last seen: {string.Join("; ", runtime.Observe())}");
    }

    [Fact(Timeout = 90_000)]
    public async Task Instance_GetsOnlyTheSafeListAndWhatItWasGiven_NotTheServersEnvironment()
    {
        Environment.SetEnvironmentVariable("GANTRY_PROBE_CLOUD_SECRET", "aws-key-must-not-leak");
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY_PROBE", "also-not");
        await runtime.EnsureAsync(new InstanceSetSpec(Shop, "test", "1.0", 1, ShopFolder, new Dictionary<string, string> { ["COLOR"] = "blue" }), default);
        var ready = await WaitForAsync(i => i.Phase == InstancePhase.Ready);

        var environ = (await File.ReadAllTextAsync($"/proc/{ready.ProcessId}/environ")).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        var names = environ.Select(e => e[..e.IndexOf('=', StringComparison.Ordinal)]).ToList();
        environ.Should().Contain("COLOR=blue").And.Contain("APP_VERSION=1.0");
        names.Should().NotContain(["GANTRY_PROBE_CLOUD_SECRET", "AWS_SECRET_ACCESS_KEY_PROBE", "GANTRY_TOKEN"]);
        names.Except(["COLOR", "APP_VERSION", "HOME", "USER", "LOGNAME"]).Should().OnlyContain(n => InstanceIsolation.Passed.Contains(n) || n.StartsWith("LC_", StringComparison.Ordinal), "only the safe list is inherited");

        // A root server runs instances as the dedicated unprivileged user, never as root.
        var uid = File.ReadAllLines($"/proc/{ready.ProcessId}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1];
        if (InstanceIsolation.IsRoot)
        {
            uid.Should().Be(UserAccount.Find(InstanceIsolation.DedicatedUser)!.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            File.ReadAllLines($"/proc/{ready.ProcessId}/status").First(l => l.StartsWith("NoNewPrivs:", StringComparison.Ordinal)).Should().EndWith("1");
        }
        else
        {
            uid.Should().Be(File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
    }

    [Fact(Timeout = 90_000)]
    public async Task Instance_WorkingInsideTheDataDirectory_IsRefusedAndNeverStarts()
    {
        await runtime.EnsureAsync(new InstanceSetSpec(Shop, "test", "1.0", 1, Path.Combine(data, "sub"), new Dictionary<string, string>()), default);
        var crashed = await WaitForAsync(i => i.Phase == InstancePhase.Crashed);

        crashed.LastError.Should().Contain("is inside the data directory").And.Contain(data);
        crashed.ProcessId.Should().BeNull();
    }

    [Fact(Timeout = 90_000)]
    public async Task Instance_RunAsRootOrAMissingUser_IsRefused()
    {
        var missing = Shop with { Runtime = ((ProcessSpec)Shop.Runtime) with { RunAs = "no-such-user-7c1" } };
        await runtime.EnsureAsync(new InstanceSetSpec(missing, "test", "1.0", 1, ShopFolder, new Dictionary<string, string>()), default);
        var crashed = await WaitForAsync(i => i.Phase == InstancePhase.Crashed);
        crashed.LastError.Should().Contain(InstanceIsolation.IsRoot ? "runAs user 'no-such-user-7c1' does not exist" : "cannot start instances as another user");

        ManifestLoader.LoadText("""
            version: 1
            services:
              web:
                process: { command: x, args: ["{port}"], runAs: root }
                listen: 127.0.0.1:9
            """).Diagnostics.Should().Contain(d => d.Message.Contains("'runAs' may not be root", StringComparison.Ordinal) && d.Line == 4);
    }
}
