using System.Net;
using Gantry.Core.Rollouts;

namespace Gantry.Server.Tests.Traffic;

/// <summary>A service's rate limit from the manifest, through gantry server's router.</summary>
[Collection(ServerTests.Name)]
public sealed class RateLimitFunctionalTests
{
    [Fact(Timeout = 90_000)]
    public async Task RateLimit_FromTheManifest_RefusesAFloodWith429AndRetryAfter()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "rolling: {}", replicas: 1, extra: "    rateLimit: { requestsPerSecond: 5, burst: 10 }"));
        var first = await h.DeployAsync("v1");
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded);

        using var client = new HttpClient();
        var statuses = new List<(HttpStatusCode Status, TimeSpan? RetryAfter)>();
        for (var i = 0; i < 40; i++)
        {
            using var response = await client.GetAsync(h.Front);
            statuses.Add((response.StatusCode, response.Headers.RetryAfter?.Delta));
        }

        statuses.Count(s => s.Status == HttpStatusCode.OK).Should().BeInRange(10, 20);
        statuses.Where(s => s.Status != HttpStatusCode.OK).Should().OnlyContain(s => s.Status == HttpStatusCode.TooManyRequests && s.RetryAfter >= TimeSpan.FromSeconds(1));
    }
}
