using System.Text.Json.Nodes;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Storage.Sqlite;
using Gantry.Testing;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Tests.Sqlite;

/// <summary>States stored by a Gantry that kept waits as booleans and blue-green progress as step numbers come back as named reasons and stages.</summary>
public sealed class WaitReasonMigrationTests : IDisposable
{
    private readonly SqliteScratch scratch = new();
    private readonly FakeTimeProvider time = new(TestClock.Start);

    private string DbPath => scratch.DbPath;

    public void Dispose() => scratch.Dispose();

    private static ServiceSpec Service(string strategy) => ManifestLoader.LoadText($$"""
        version: 1
        services:
          {{strategy}}: { process: { command: app, args: ["{port}"] }, listen: 127.0.0.1:{{(strategy == "web" ? 8080 : 8081)}}, health: { readiness: { path: /ready } }, strategy: { {{(strategy == "web" ? "canary: { steps: [{ setWeight: 50 }] }" : "blueGreen: { autoPromotion: false }")}} } }
        """).Manifest!.Services[0];

    [Theory(Timeout = 30_000)]
    [InlineData("paused", true, false, false, false, "paused by alice", 0, "pausedByPerson")]
    [InlineData("paused", true, true, false, false, "held where it is by freeze 'eoy'", 0, "heldByFreeze")]
    [InlineData("paused", true, false, false, false, "background analysis slo inconclusive: no data", 0, "inconclusiveAnalysis")]
    [InlineData("paused", true, false, false, false, "background analysis slo failed: 5%; holding the current split (onFailure: hold)", 0, "failedAnalysisHeld")]
    [InlineData("paused", false, false, false, false, "step 2/2: paused until promoted", 0, "awaitingPromotion")]
    [InlineData("pending", false, false, true, true, "waiting for the pre-deployment checklist of production", 0, "awaitingChecklist,awaitingApproval")]
    [InlineData("awaitingApproval", false, false, false, true, "waiting for approval", 0, "awaitingApproval")]
    [InlineData("progressing", false, false, true, false, "step 1/2: canary at 50%", 1, "")]
    public async Task Open_StateWithWaitBooleans_BecomesNamedReasons(string phase, bool manualPause, bool heldByFreeze, bool awaitsChecklist, bool awaitsApproval, string message, int step, string expected)
    {
        var old = await StoreOldAsync("web", json =>
        {
            json["phase"] = phase;
            json["message"] = message;
            json["step"] = step;
            json["manualPause"] = manualPause;
            json["heldByFreeze"] = heldByFreeze;
            json["awaitsChecklist"] = awaitsChecklist;
            json["awaitsApproval"] = awaitsApproval;
        });

        await using var store = scratch.Open(time);
        var state = (await store.GetAsync(old, default))!;
        string.Join(",", state.Waits.Select(w => GantryJsonName(w))).Should().Be(expected);
        state.ChecklistGated.Should().Be(awaitsChecklist);
        state.Step.Should().Be(step);
        state.Stage.Should().BeNull("it is a canary");
    }

    [Theory(Timeout = 30_000)]
    [InlineData(0, BlueGreenStage.Preview)]
    [InlineData(1, BlueGreenStage.PrePromotionAnalysis)]
    [InlineData(2, BlueGreenStage.AwaitingPromotion)]
    [InlineData(3, BlueGreenStage.Switching)]
    [InlineData(4, BlueGreenStage.PostPromotionAnalysis)]
    public async Task Open_BlueGreenStepNumber_BecomesItsNamedStage(int step, BlueGreenStage stage)
    {
        var old = await StoreOldAsync("cart", json => json["step"] = step);
        await using var store = scratch.Open(time);
        var state = (await store.GetAsync(old, default))!;
        state.Stage.Should().Be(stage);
        state.Step.Should().Be(0);
    }

    private static string GantryJsonName(WaitReason reason) => System.Text.Json.JsonSerializer.Serialize(reason, GantryJson.Options).Trim('"');

    /// <summary>Stores a rollout, then writes its state back as the earlier format had it and forgets the migration.</summary>
    private async Task<string> StoreOldAsync(string service, Action<JsonObject> edit)
    {
        var spec = Service(service);
        var stable = RolloutEngine.Create($"{service}-production-1", spec, "production", Release.Of("1.0"), RolloutKind.Deploy, [], time.GetUtcNow(), "alice");
        var state = RolloutEngine.Create($"{service}-production-2", spec, "production", Release.Of("2.0"), RolloutKind.Deploy, [.. stable.Sets.Select(s => s with { Role = SetRole.Stable })], time.GetUtcNow(), "alice");
        await using (var store = scratch.Open(time))
        {
            (await store.CreateAsync(state, [new RolloutEvent(RolloutEventType.Created, "created")], default)).Should().Be(CommitOutcome.Committed);
        }

        await using var connection = new SqliteConnection($"Data Source={DbPath}");
        await connection.OpenAsync();
        await using var read = connection.CreateCommand();
        read.CommandText = "SELECT state FROM rollouts WHERE id = $id";
        read.Parameters.AddWithValue("$id", state.Id);
        var json = JsonNode.Parse((string)(await read.ExecuteScalarAsync())!)!.AsObject();
        json.Remove("waits");
        json.Remove("checklistGated");
        json.Remove("stage");
        json["manualPause"] = false;
        json["heldByFreeze"] = false;
        json["awaitsChecklist"] = false;
        json["awaitsApproval"] = false;
        edit(json);
        await using var write = connection.CreateCommand();
        // Back to the schema before 0012: forget it and what came after (0013 made the maintenance table, 0014 the pauses, and so on to 0017 the change mark).
        write.CommandText = "UPDATE rollouts SET state = $s WHERE id = $id; DELETE FROM schema_migrations WHERE version >= 12; DROP TABLE maintenance; DROP TABLE traffic_pauses; DROP TABLE leases; DROP TABLE published_tables; DROP TABLE replicas; DROP TABLE cluster; DROP TABLE change_mark";
        write.Parameters.AddWithValue("$s", json.ToJsonString());
        write.Parameters.AddWithValue("$id", state.Id);
        await write.ExecuteNonQueryAsync();
        return state.Id;
    }
}
