using System.Text.RegularExpressions;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// The native client (src/Gantry.NativeCli), published ahead of time as <c>dotnet publish -r linux-x64</c> publishes it,
/// in front of the full program: it answers <c>--version</c>, <c>status SERVICE --output json</c> and <c>deploy</c> itself,
/// saying exactly what the full program says, and hands every other command line over unchanged. Here the full program
/// beside it is a script that notes each hand-over and runs the built gantry, against a real server.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class NativeClientTests(NativeClientTests.Layout layout, ITestOutputHelper log) : IClassFixture<NativeClientTests.Layout>, IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(90);

    private readonly string folder = Begin(layout);

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>A test's own folder, and the record of hand-overs started again.</summary>
    private static string Begin(Layout layout)
    {
        layout.Forget();
        var folder = Directory.CreateTempSubdirectory("gantry-native-").FullName;

        // Instances run as the runtime's own unprivileged user when the tests run as root: they must reach www.
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        return folder;
    }

    [Fact(Timeout = 600_000)]
    public async Task Version_IsAnsweredWithoutTheFullProgram()
    {
        var native = await layout.RunAsync(["--version"]);
        var full = await ChildProcess.RunGantryAsync(CommandTimeout, "--version");

        native.Should().BeEquivalentTo(full, o => o.Excluding(r => r.Elapsed));
        native.Stdout.Should().MatchRegex(@"^\d+\.\d+\.\d+\n$");
        layout.HandedOver().Should().BeEmpty();
        log.WriteLine($"--version: native {native.Elapsed.TotalMilliseconds:0} ms, full {full.Elapsed.TotalMilliseconds:0} ms");
    }

    [Fact(Timeout = 600_000)]
    public async Task DeploysAndStatus_SayWhatTheFullProgramSays_WithoutIt()
    {
        await using var server = await StartServerAsync();
        var connection = new[] { "--server", server.Api.BaseAddress!.ToString(), "--data", server.Data };

        // The same command to two services alike, alpha by the native client and bravo by the full program.
        async Task SameAsync(string what, params string[] args)
        {
            var native = await layout.RunAsync([.. args, .. connection]);
            var full = await ChildProcess.RunGantryAsync(CommandTimeout, [.. args.Select(a => a.Replace("alpha", "bravo", StringComparison.Ordinal).Replace("gamma", "delta", StringComparison.Ordinal)), .. connection]);
            log.WriteLine($"{what}: native {native.Elapsed.TotalMilliseconds:0} ms, full {full.Elapsed.TotalMilliseconds:0} ms\n{native.Stdout}{native.Stderr}");
            Settled(Normal(native.Stdout)).Should().Be(Settled(Normal(full.Stdout)), what);
            Normal(native.Stderr).Should().Be(Normal(full.Stderr), what);
            native.ExitCode.Should().Be(full.ExitCode, what);
        }

        await SameAsync("first release, text", "deploy", "alpha", "--version", "1");
        await server.WaitForAsync("alpha-default-1", RolloutPhase.Succeeded);
        await server.WaitForAsync("bravo-default-1", RolloutPhase.Succeeded);
        await SameAsync("emergency rolling deploy with variables", "deploy", "alpha", "-v", "2", "--emergency", "--reason", "hot fix", "--set", "MODE=fast", "--secret", "KEY=s3cret", "--env", "default");
        await SameAsync("first release, json", "deploy", "gamma", "--version", "1", "--output", "json");
        await server.WaitForAsync("gamma-default-1", RolloutPhase.Succeeded);
        await server.WaitForAsync("delta-default-1", RolloutPhase.Succeeded);
        await SameAsync("canary, text", "deploy", "gamma", "-v", "2");
        await server.WaitForViewAsync("gamma-default-2", v => v.Rollout.Phase == RolloutPhase.Paused);
        await server.WaitForViewAsync("delta-default-2", v => v.Rollout.Phase == RolloutPhase.Paused);
        await SameAsync("queued, text", "deploy", "gamma", "-v", "3", "--queue");
        await SameAsync("queued, json", "deploy", "gamma", "-v", "4", "--queue", "-o", "JSON");
        await SameAsync("refused: busy", "deploy", "gamma", "-v", "5");
        await SameAsync("refused: no such service", "deploy", "nope", "-v", "1");

        // A read of one service by both: the same answer, byte for byte but for the instances' times.
        var status = await layout.RunAsync(["status", "gamma", "--output", "json", .. connection]);
        var fullStatus = await ChildProcess.RunGantryAsync(CommandTimeout, ["status", "gamma", "--output", "json", .. connection]);
        Normal(status.Stdout).Should().Be(Normal(fullStatus.Stdout));
        status.Stdout.Should().Contain("\"phase\": \"paused\"");
        log.WriteLine($"status --output json: native {status.Elapsed.TotalMilliseconds:0} ms, full {fullStatus.Elapsed.TotalMilliseconds:0} ms");

        // A token the server does not know: refused alike (exit 5).
        var bad = new Dictionary<string, string> { ["GANTRY_TOKEN"] = "gantry_bad" };
        var deniedNative = await layout.RunAsync(["status", "gamma", "-o", "json", "--server", connection[1]], bad);
        var deniedFull = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "status", "gamma", "-o", "json", "--server", connection[1]], CommandTimeout, bad);
        deniedNative.Should().BeEquivalentTo(deniedFull, o => o.Excluding(r => r.Elapsed));
        deniedNative.ExitCode.Should().Be(ExitCodes.Denied);

        layout.HandedOver().Should().BeEmpty("the native client answered every one of these itself");
    }

    [Fact(Timeout = 600_000)]
    public async Task EveryOtherCommandLine_IsHandedOverUnchanged()
    {
        await using var server = await StartServerAsync();
        var connection = new[] { "--server", server.Api.BaseAddress!.ToString(), "--data", server.Data };
        (await layout.RunAsync(["deploy", "alpha", "-v", "1", .. connection])).ExitCode.Should().Be(0);
        await server.WaitForAsync("alpha-default-1", RolloutPhase.Succeeded);
        layout.HandedOver().Should().BeEmpty();

        // Each line is run by both, one after the other, so none may change anything: deploys go to no service.

        string[][] lines =
        [
            ["status", "alpha", .. connection],                                   // text: drawn by the full program
            ["status", "--output", "json", .. connection],                        // every service
            ["history", "alpha", .. connection],
            ["deploy", "nope", "--version=2", .. connection],                     // a form this client does not read
            ["deploy", "alpha", "-v", "2", "--set", "NOEQUALS", .. connection],   // refused by the full program, with its words
            ["deploy", "nope", "-v", "2", "--queue", "true", .. connection],      // a flag given a value
            ["deploy", "nope", "-v", "2", "--env", "default", "--env", "default", .. connection],
            ["deploy", "nope", "-v", "2", "--wait", .. connection],
            ["status", "alpha", "-o", "json", "--server", $"http://127.0.0.1:{FreePort.Next()}"], // no server there
            ["--help"],
            ["deploy", "--help"],
        ];
        foreach (var line in lines)
        {
            var native = await layout.RunAsync(line);
            var full = await ChildProcess.RunGantryAsync(CommandTimeout, line);
            var what = string.Join(' ', line);
            native.Should().BeEquivalentTo(full, o => o.Excluding(r => r.Elapsed), what);
            layout.HandedOver().Should().EndWith(what, "the line goes over as it was written");
        }

        layout.HandedOver().Should().HaveCount(lines.Length);
    }

    [Fact(Timeout = 600_000)]
    public async Task TheServer_IsHandedTheRuntimeSettingsItStartsWith_OtherCommandsNone_AndTheUsersOwnWin()
    {
        (await layout.RunAsync(["server", "--help"])).ExitCode.Should().Be(0);
        (await layout.RunAsync(["history", "--help"])).ExitCode.Should().Be(0);
        (await layout.RunAsync(["server", "--help"], new Dictionary<string, string> { ["DOTNET_TieredPGO"] = "1" })).ExitCode.Should().Be(0);
        layout.StartedWith().Should().Equal("0 DOTNET_TieredPGO", "unset unset", "1 unset");
        layout.HandedOver().Should().Equal("server --help", "history --help", "server --help");
    }

    private async Task<ServerProcess> StartServerAsync()
    {
        var www = Directory.CreateDirectory(Path.Combine(folder, "www")).FullName;
        string Service(string name, string strategy) => $$"""
              {{name}}:
                process: { command: /usr/bin/python3, args: [-m, http.server, "{port}", --bind, 127.0.0.1, --directory, {{www}}] }
                listen: 127.0.0.1:{{FreePort.Next()}}
                health: { readiness: { path: /, interval: 200ms } }
                strategy: {{strategy}}
            """;
        const string rolling = "{ rolling: { maxSurge: 1, maxUnavailable: 0 } }";
        const string canary = "{ canary: { steps: [{ setWeight: 50 }, { pause: {} }] } }";
        var manifest = Path.Combine(folder, "gantry.yaml");
        await File.WriteAllTextAsync(manifest, string.Join("\n",
            "version: 1", "services:", Service("alpha", rolling), Service("bravo", rolling), Service("gamma", canary), Service("delta", canary)));
        var server = new ServerProcess(Path.Combine(folder, "data"), FreePort.Next());
        await server.StartAsync(manifest);
        return server;
    }

    /// <summary>An answer with what differs between two services alike taken out: the other's name, times, queue numbers.</summary>
    private static string Normal(string text) =>
        QueueNumber().Replace(Timestamp().Replace(text.Replace("bravo", "alpha", StringComparison.Ordinal).Replace("delta", "gamma", StringComparison.Ordinal), "TIME"), "${1}N");

    /// <summary>
    /// A deploy's answer with what the two services' instances had come to by then taken out: the answer is the state
    /// when the server answered, and the reconciler may or may not have started the first instance of one of them yet.
    /// </summary>
    private static string Settled(string text) =>
        ReadyCount().Replace(InstanceList().Replace(text, "\"instances\": [INSTANCES]"), "\"ready\": N");

    [GeneratedRegex(@"""instances"": \[[^\]]*\]")]
    private static partial Regex InstanceList();

    [GeneratedRegex(@"""ready"": \d+")]
    private static partial Regex ReadyCount();

    [GeneratedRegex(@"\d{4}-\d\d-\d\dT[0-9:.]+(\\u002B|\+|Z)[0-9:]*")]
    private static partial Regex Timestamp();

    [GeneratedRegex(@"(\(#|""id"": )\d+")]
    private static partial Regex QueueNumber();

    /// <summary>
    /// The native client published once for the class, put as <c>gantry</c> beside a <c>gantry-full</c> that notes each
    /// command line handed to it and runs the built full program.
    /// </summary>
    public sealed class Layout : IAsyncLifetime
    {
        private readonly string folder = Directory.CreateTempSubdirectory("gantry-native-layout-").FullName;

        private string Calls => Path.Combine(folder, "handed-over");

        private string Settings => Path.Combine(folder, "start-settings");

        public async ValueTask InitializeAsync()
        {
            var publish = Path.Combine(folder, "publish");
            var result = await ChildProcess.RunAsync("dotnet",
                ["publish", RepoPaths.Combine("src", "Gantry.NativeCli", "Gantry.NativeCli.csproj"), "-c", "Release", "-r", "linux-x64", "-o", publish, "-nologo"],
                TimeSpan.FromMinutes(8));
            result.ExitCode.Should().Be(0, $"the native client publishes ahead of time:\n{result.Stdout}\n{result.Stderr}");
            File.Copy(Path.Combine(publish, "gantry-native"), Path.Combine(folder, "gantry"));
            File.SetUnixFileMode(Path.Combine(folder, "gantry"), (UnixFileMode)0b111_101_101);
            var full = Path.Combine(folder, "gantry-full");
            await File.WriteAllTextAsync(full, $"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{Calls}'\nprintf '%s %s\\n' \"${{DOTNET_TieredPGO-unset}}\" \"${{{StartSettings.Marker}-unset}}\" >> '{Settings}'\nexec dotnet '{RepoPaths.GantryDll}' \"$@\"\n");
            File.SetUnixFileMode(full, (UnixFileMode)0b111_101_101);
        }

        public Task<CommandResult> RunAsync(string[] args, IReadOnlyDictionary<string, string>? env = null) =>
            ChildProcess.RunAsync(Path.Combine(folder, "gantry"), args, CommandTimeout, env);

        /// <summary>Starts the record of hand-overs again (each test of the class reads its own).</summary>
        public void Forget()
        {
            File.Delete(Calls);
            File.Delete(Settings);
        }

        /// <summary>Per hand-over, the full program's <c>DOTNET_TieredPGO</c> and <see cref="StartSettings.Marker"/> ("unset" for none).</summary>
        public IReadOnlyList<string> StartedWith() => File.Exists(Settings) ? File.ReadAllLines(Settings) : [];

        /// <summary>The command lines handed to the full program so far, in order.</summary>
        public IReadOnlyList<string> HandedOver() => File.Exists(Calls) ? File.ReadAllLines(Calls) : [];

        public ValueTask DisposeAsync()
        {
            Directory.Delete(folder, recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}
