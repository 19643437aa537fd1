using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Server.Api;

namespace Gantry.Server.Tests.Access;

/// <summary>An event stream held open by a token ends once the token is revoked, and connecting again is refused.</summary>
[Collection(ServerTests.Name)]
public sealed class StreamRevocationTests
{
    [Fact(Timeout = 60_000)]
    public async Task EventStream_TokenRevokedWhileOpen_EndsWithinTheRecheckAndCannotReconnect()
    {
        await using var h = await ServerHarness.StartAsync(listen => ServerHarness.ManifestText(listen, "canary: { steps: [{ setWeight: 50 }] }"));
        using var made = await h.Api.PostAsJsonAsync("/api/v1/tokens", new TokenRequest("watcher", ["viewer"]), GantryJson.Options);
        var created = (await made.Content.ReadFromJsonAsync<CreatedToken>(GantryJson.Options))!;
        using var watcher = new HttpClient { BaseAddress = h.Server.Address, Timeout = Timeout.InfiniteTimeSpan };
        watcher.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", created.Secret);

        using var stream = await watcher.GetAsync(new Uri("/api/v1/events?after=-1", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        stream.StatusCode.Should().Be(HttpStatusCode.OK);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
        var ended = Task.Run(async () =>
        {
            while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is not null)
            {
                // Keep-alives and events until the server ends the stream.
            }
        }, TestContext.Current.CancellationToken);

        await Task.Delay(500, TestContext.Current.CancellationToken);
        ended.IsCompleted.Should().BeFalse("the stream stays open while the token is valid");
        var watch = Stopwatch.StartNew();
        (await h.Api.DeleteAsync(new Uri($"/api/v1/tokens/{created.Token.Id}", UriKind.Relative), TestContext.Current.CancellationToken)).EnsureSuccessStatusCode();
        (await Task.WhenAny(ended, Task.Delay(SystemEndpoints.TokenRecheck + TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken))).Should().BeSameAs(ended, "the server ends a stream whose token was revoked");
        watch.Elapsed.Should().BeLessThan(SystemEndpoints.TokenRecheck + TimeSpan.FromSeconds(5));

        using var again = await watcher.GetAsync(new Uri("/api/v1/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        again.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }
}
