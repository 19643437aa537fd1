using System.Net.Http.Json;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// A control plane on PostgreSQL, end to end with real processes: a SQLite history moved with
/// <c>gantry store migrate</c>, <c>gantry server --store</c> adopting the same instances and going on with the
/// history, <c>gantry backup</c> of the PostgreSQL store, <c>gantry restore --store</c> into an empty database,
/// and a database that cannot be reached at start.
/// </summary>
public sealed class PostgresStoreCommandTests() : WithPostgres("gantry-pg-cli-")
{
    [Fact(Timeout = 240_000)]
    public async Task Migrate_ThenServeFromPostgres_HistoryGoesOnAndBacksUpAndRestores()
    {
        var manifest = await ManifestAsync();
        var data = Path.Combine(Folder, "data");
        var url = await Postgres.CreateDatabaseAsync("moved");
        var database = url[(url.LastIndexOf('/') + 1)..];
        await using var server = new ServerProcess(data, FreePort.Next());

        // A history on SQLite, then the server stopped (its instances keep serving).
        await server.StartAsync(manifest);
        var first = await server.WaitForAsync(await server.DeployAsync("1.0"), RolloutPhase.Succeeded);
        await server.StopAsync(kill: false);

        var migrated = await GantryCliTests.RunAsync("store", "migrate", "--from", "sqlite:" + data, "--to", url);
        (migrated.Exit, migrated.Err).Should().Be((ExitCodes.Success, string.Empty));
        migrated.Out.Should().StartWith("gantry store migrate: ").And.Contain($"to PostgreSQL 127.0.0.1:{Postgres.Port}/{database}")
            .And.Contain("rollouts 1").And.Contain("audit chain: ").And.Contain("verified: the chain is intact");
        var again = await GantryCliTests.RunAsync("store", "migrate", "--from", "sqlite:" + data, "--to", url);
        again.Exit.Should().Be(ExitCodes.Failed);
        again.Err.Trim().Should().StartWith($"gantry: PostgreSQL 127.0.0.1:{Postgres.Port}/{database} is not empty (1 rollouts, ").And.EndWith("copy into a new, empty store; nothing was changed");

        // The same data directory (its key, its instances) with the store in PostgreSQL: the history is there and goes on.
        await server.StartAsync(manifest, "--store", url);
        (await server.WaitForViewAsync(first.Rollout.Id, v => v.Instances.Count == 1)).Instances.Single().ProcessId.Should().Be(first.Instances.Single().ProcessId, "the instance is adopted as before");
        var second = await server.WaitForAsync(await server.DeployAsync("2.0"), RolloutPhase.Succeeded);
        second.Rollout.Id.Should().Be("shop-default-2", "numbering goes on from the migrated history");
        var listed = await server.Api.GetFromJsonAsync<List<RolloutState>>("/api/v1/rollouts?service=shop", GantryJson.Options);
        listed!.Select(r => r.Release.Version).Should().Equal("2.0", "1.0");
        (await Postgres.QueryAsync(database, "SELECT COUNT(*) FROM rollouts")).Should().Be("2", "the server writes PostgreSQL, not a SQLite file");

        var file = Path.Combine(Folder, "nightly.db");
        var backup = await GantryCliTests.RunAsync("backup", "--to", file, "--server", server.Api.BaseAddress!.ToString(), "--data", data);
        (backup.Exit, backup.Err).Should().Be((ExitCodes.Success, string.Empty));
        backup.Out.Should().Contain("verified").And.Contain("2 rollouts, 2 releases");

        var target = await Postgres.CreateDatabaseAsync("restored");
        var restored = await GantryCliTests.RunAsync("restore", "--from", file, "--store", target);
        (restored.Exit, restored.Err).Should().Be((ExitCodes.Success, string.Empty));
        restored.Out.Should().StartWith($"gantry restore: PostgreSQL 127.0.0.1:{Postgres.Port}/{target[(target.LastIndexOf('/') + 1)..]} restored from {file}").And.Contain("2 rollouts");
        (await Postgres.QueryAsync(target[(target.LastIndexOf('/') + 1)..], "SELECT action FROM audit ORDER BY seq DESC LIMIT 1")).Should().Be("store.restored");
        var twice = await GantryCliTests.RunAsync("restore", "--from", file, "--store", target);
        twice.Exit.Should().Be(ExitCodes.Failed);
        twice.Err.Trim().Should().EndWith("copy into a new, empty store; nothing was changed");
    }

    [Fact(Timeout = 240_000)]
    public async Task DatabaseStoppedMidCanary_TrafficHoldsItsSplit_StatusAndHealthSaySo_AndTheRolloutGoesOnWhenItIsBack()
    {
        var listen = FreePort.Next();
        var manifest = await CanaryManifestAsync(listen);
        var url = await Postgres.CreateDatabaseAsync("outage");
        await using var server = new ServerProcess(Path.Combine(Folder, "data"), FreePort.Next());
        await server.StartAsync(manifest, "--store", url);
        await server.WaitForAsync(await server.DeployAsync("1.0"), RolloutPhase.Succeeded);
        await using var load = new SteadyLoad(new Uri($"http://127.0.0.1:{listen}/"));
        var canary = await server.DeployAsync("2.0");
        await server.WaitForViewAsync(canary, v => v.Rollout.Waits.Count > 0 && v.Traffic.Any(t => t.Version == "2.0" && t.Weight == 50));

        await Postgres.StopAsync();
        var split = new Dictionary<string, long>(load.Versions);
        string? health = null;
        await Wait.UntilAsync(async () =>
        {
            using var ready = await server.Api.GetAsync(new Uri("/health/ready", UriKind.Relative));
            health = await ready.Content.ReadAsStringAsync();
            return ready.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable;
        }, TimeSpan.FromSeconds(20), "the server says the store is away");
        health.Should().Contain("\"code\":\"store-unavailable\"").And.Contain($"PostgreSQL 127.0.0.1:{Postgres.Port}/").And.Contain(" since ").And.Contain("no rollout moves until it is back");
        var status = await GantryCliTests.RunAsync("status", "shop", "--server", server.Api.BaseAddress!.ToString(), "--data", server.Data);
        status.Exit.Should().NotBe(ExitCodes.Success);
        status.Err.Trim().Should().StartWith($"gantry: PostgreSQL 127.0.0.1:{Postgres.Port}/").And.EndWith("nothing was changed, the routers keep serving the last split [store-unavailable]");
        await Task.Delay(TimeSpan.FromSeconds(3));
        var during = load.Versions.ToDictionary(p => p.Key, p => p.Value - split.GetValueOrDefault(p.Key));
        ((double)during.GetValueOrDefault("2.0") / during.Values.Sum()).Should().BeInRange(0.4, 0.6, "the router keeps the 50% split while the database is away");

        await Postgres.RestartAsync();
        await Wait.UntilAsync(async () =>
        {
            using var ready = await server.Api.GetAsync(new Uri("/health/ready", UriKind.Relative));
            return ready.IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(30), "the server is ready again");
        using (var promote = await server.Api.PostAsJsonAsync($"/api/v1/rollouts/{canary}/promote", new Api.CommandRequest("database back"), GantryJson.Options))
        {
            promote.IsSuccessStatusCode.Should().BeTrue(await promote.Content.ReadAsStringAsync());
        }

        await server.WaitForAsync(canary, RolloutPhase.Succeeded);
        load.Errors.Should().BeEmpty("no request fails while the database is away or comes back");
    }

    [Fact(Timeout = 60_000)]
    public async Task Server_DatabaseUnreachableAtStart_IsOneLineAndExitsNonZero()
    {
        var manifest = await ManifestAsync();
        var port = FreePort.Next();
        var result = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "server", "-f", manifest, "--data", Path.Combine(Folder, "data"), "--listen", $"127.0.0.1:{FreePort.Next()}", "--store", $"postgres://gantry:hunter2@127.0.0.1:{port}/gantry"], TimeSpan.FromSeconds(45));
        result.ExitCode.Should().Be(ExitCodes.Failed);
        result.Stderr.Trim().Should().Be($"gantry: PostgreSQL 127.0.0.1:{port}/gantry: cannot be reached (connection refused)");

        var malformed = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "server", "-f", manifest, "--store", "postgres://db.example"], TimeSpan.FromSeconds(45));
        malformed.ExitCode.Should().Be(ExitCodes.BadInput);
        malformed.Stderr.Trim().Should().Be("gantry: --store: 'postgres://db.example' is not a PostgreSQL URL: expected postgres://user:password@host:port/database");

        var alone = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "server", "-f", manifest, "--replica", "a"], TimeSpan.FromSeconds(45));
        (alone.ExitCode, alone.Stderr.Trim()).Should().Be((ExitCodes.BadInput, "gantry: --replica needs --store (replicas share a PostgreSQL store)"));
        var named = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "server", "-f", manifest, "--store", $"postgres://gantry@127.0.0.1:{port}/gantry", "--replica", "../a"], TimeSpan.FromSeconds(45));
        (named.ExitCode, named.Stderr.Trim()).Should().Be((ExitCodes.BadInput, "gantry: --replica: '../a' must be 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"));
        var bind = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "server", "-f", manifest, "--router-address", "machine-2"], TimeSpan.FromSeconds(45));
        (bind.ExitCode, bind.Stderr.Trim()).Should().Be((ExitCodes.BadInput, "gantry: --router-address: 'machine-2' must be an IP address, with the data plane detached"));
        var resync = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "server", "-f", manifest, "--resync", "100ms"], TimeSpan.FromSeconds(45));
        (resync.ExitCode, resync.Stderr.Trim()).Should().Be((ExitCodes.BadInput, "gantry: --resync '100ms' must be a duration of at least 1s, such as 30s or 5m"));
        Directory.Exists(Path.Combine(Folder, ".gantry")).Should().BeFalse("bad input changes nothing: no data directory made");
    }

    private async Task<string> ManifestAsync()
    {
        var manifest = Path.Combine(Folder, "gantry.yaml");
        await File.WriteAllTextAsync(manifest, $$"""
            version: 1
            services:
              shop:
                {{SampleService.Process(4)}}
                listen: 127.0.0.1:{{FreePort.Next()}}
                health:
                  readiness: { path: /health/ready, interval: 200ms }
            """);
        return manifest;
    }
}
