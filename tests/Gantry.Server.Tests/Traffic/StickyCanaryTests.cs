using System.Net;
using Gantry.Core.Rollouts;

namespace Gantry.Server.Tests.Traffic;

/// <summary>Sticky canaries from the manifest: a user who saw the canary keeps seeing it while its weight grows.</summary>
[Collection(ServerTests.Name)]
public sealed class StickyCanaryTests
{
    private const int Users = 300;

    [Fact(Timeout = 120_000)]
    public async Task StickyCookie_300UsersFrom10To50To100Percent_NoneFlipsBackToStable()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, """
            canary:
              steps:
                - setWeight: 10
                - pause: {}
                - setWeight: 50
                - pause: {}
            """).Replace("    progressDeadline:", "    sticky: { cookie: gantry-user }\n    progressDeadline:", StringComparison.Ordinal));
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        var canary = await h.DeployAsync("v2");
        await h.WaitAsync(canary.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Paused && v.Rollout.Step == 1);

        using var client = new HttpClient(new SocketsHttpHandler { UseCookies = false, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        var cookies = new string?[Users];
        var seen = Enumerable.Range(0, Users).Select(_ => new List<string>()).ToArray();

        async Task VisitAsync(int requests)
        {
            for (var user = 0; user < Users; user++)
            {
                for (var r = 0; r < requests; r++)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, h.Front);
                    if (cookies[user] is { } cookie)
                    {
                        request.Headers.Add("Cookie", cookie);
                    }

                    using var response = await client.SendAsync(request);
                    response.StatusCode.Should().Be(HttpStatusCode.OK);
                    if (cookies[user] is null)
                    {
                        // The router gives a user without the cookie one on its first answer.
                        cookies[user] = response.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
                        cookies[user].Should().StartWith("gantry-user=");
                    }

                    seen[user].Add(response.Headers.GetValues("X-App-Version").Single());
                }
            }
        }

        int OnCanaryAt(int weight) => cookies.Count(c => Gantry.Proxy.Splitting.StickyHash.PointOf(c!["gantry-user=".Length..]) >= 1 - (weight / 100.0));

        await VisitAsync(3);
        var atTen = seen.Count(s => s[^1] == "v2");
        // The cookies are random, so the share is too; which users are on the canary is not: those whose cookie's point
        // falls in the canary's 10% of the line, its last (the planner lists the stable set first).
        atTen.Should().Be(OnCanaryAt(10), "the users whose cookies fall in the canary's 10% are on it");

        await h.CommandAsync("promote");
        await h.WaitAsync(canary.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Paused && v.Rollout.Step == 3);
        await VisitAsync(3);
        var atFifty = seen.Count(s => s[^1] == "v2");
        atFifty.Should().Be(OnCanaryAt(50), "at 50% those whose cookies fall in the second half are");

        await h.CommandAsync("promote");
        await h.WaitForPhaseAsync(canary.Rollout.Id, RolloutPhase.Succeeded);
        await VisitAsync(1);

        for (var user = 0; user < Users; user++)
        {
            var first = seen[user].IndexOf("v2");
            seen[user].Skip(first).Should().OnlyContain(v => v == "v2", $"user {user} saw the canary and must not flip back: {string.Join(" ", seen[user])}");
            seen[user][^1].Should().Be("v2");
        }
    }
}
