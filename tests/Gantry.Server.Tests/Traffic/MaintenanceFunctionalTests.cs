using System.Net;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests.Traffic;

/// <summary>Maintenance through gantry server under load: only 503 with Retry-After while on, 2xx again once off, both audited and shown.</summary>
[Collection(ServerTests.Name)]
public sealed class MaintenanceFunctionalTests
{
    [Fact(Timeout = 120_000)]
    public async Task Maintenance_OnUnderLoad_OnlyAnswers503ThenServesAgain()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "rolling: {}", replicas: 1));
        var first = await h.DeployAsync("v1");
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded);
        using var api = new GantryClient(h.Server.Address, h.Server.AdminToken);

        await api.MaintenanceOnAsync("shop", new MaintenanceRequest(Message: "database upgrade"), default);
        using var client = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpResponseMessage response;
        do
        {
            response = await client.GetAsync(h.Front);
        }
        while (response.StatusCode != HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline);

        var statuses = new List<(HttpStatusCode Status, TimeSpan? RetryAfter, string Body)>();
        for (var i = 0; i < 100; i++)
        {
            using var during = await client.GetAsync(h.Front);
            statuses.Add((during.StatusCode, during.Headers.RetryAfter?.Delta, await during.Content.ReadAsStringAsync()));
        }

        statuses.Should().OnlyContain(s => s.Status == HttpStatusCode.ServiceUnavailable && s.RetryAfter == TimeSpan.FromSeconds(30) && s.Body.Contains("database upgrade"));
        (await api.ServicesAsync(default)).Single().Environments.Single().Maintenance.Should().Be("database upgrade");

        await api.MaintenanceOffAsync("shop", null, default);
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        var after = load.Errors.Count;
        await load.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));
        load.Errors.Count.Should().Be(after, "off again: every request is served");
        var audit = await h.Api.GetFromJsonAsync<List<Core.Audit.AuditEvent>>("/api/v1/audit?target=shop/default", GantryJson.Options);
        audit!.Select(e => e.Action).Should().Contain(["maintenance.on", "maintenance.off"]);
        var refused = await Assert.ThrowsAsync<ApiCallException>(() => api.MaintenanceOffAsync("shop", null, default));
        refused.Problem!.Code.Should().Be(ProblemCodes.NotInMaintenance.Code);
    }
}
