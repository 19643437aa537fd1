using System.Net;
using System.Net.Sockets;
using Gantry.Core.Audit;
using Gantry.Server.Access;
using Gantry.Server.Tests.Access;

namespace Gantry.Server.Tests.Security;

/// <summary>
/// Failed authentications are throttled per address and overall, never at the expense of a valid token, and
/// recorded as aggregates rather than one audit event per failure.
/// </summary>
public sealed class LockoutTests
{
    /// <summary>A client whose connections come from <paramref name="source"/> (any address of 127.0.0.0/8 reaches a loopback server).</summary>
    private static HttpClient From(string source, Uri server) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
            await socket.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/services");
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        }

        return await client.SendAsync(request);
    }

    [Fact(Timeout = 120_000)]
    public async Task Lockout_ByAddress_RefusesBadCallersButAlwaysAcceptsAValidToken_AndAggregatesTheAudit()
    {
        await using var h = await ServerHarness.StartAsync(AuthorizationMatrixTests.Manifest, access: new AccessOptions(FailureLimit: 3, Window: TimeSpan.FromMinutes(5)));
        using var client = From("127.0.0.1", h.Server.Address);
        for (var i = 0; i < 3; i++)
        {
            (await GetAsync(client, "nonsense")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        }

        for (var i = 0; i < 20; i++)
        {
            using var refused = await GetAsync(client, i % 2 == 0 ? "nonsense" : "gantry_0123456789ab_" + new string('x', 40));
            refused.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
            refused.Headers.RetryAfter!.Delta.Should().BeGreaterThan(TimeSpan.FromMinutes(4));
            refused.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        }

        using (var valid = await GetAsync(client, h.Server.AdminToken))
        {
            valid.StatusCode.Should().Be(HttpStatusCode.OK, "a valid token from a locked-out address (a proxy, NAT, a CI runner) is still accepted");
        }

        var audit = await ((IAuditStore)h.Server.Store).AuditAsync(new AuditQuery("api", null, 100), default);
        audit.Select(e => e.Action).Should().Equal(["auth.failed", "auth.locked"], "23 failures make two records, not 23");
        audit[^1].Detail.Should().Contain("(and 1 more failure from 127.0.0.1 not recorded one by one)")
            .And.EndWith("3 failures: 127.0.0.1 is refused until the window passes (valid tokens are still accepted)");
        (await ((IAuditStore)h.Server.Store).VerifyAuditAsync(default)).Intact.Should().BeTrue();
    }

    [Fact(Timeout = 120_000)]
    public async Task Lockout_RotatingAddresses_HitTheOverallLimit_WhileValidTokensPass()
    {
        await using var h = await ServerHarness.StartAsync(AuthorizationMatrixTests.Manifest, access: new AccessOptions(FailureLimit: 3, Window: TimeSpan.FromMinutes(5), GlobalFailureLimit: 5));
        foreach (var source in new[] { "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6" })
        {
            using var client = From(source, h.Server.Address);
            (await GetAsync(client, "guess")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, $"{source} has one failure of its own");
        }

        using var fresh = From("127.0.0.7", h.Server.Address);
        (await GetAsync(fresh, "guess")).StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "five addresses together reached the overall limit");
        (await GetAsync(fresh, null)).StatusCode.Should().Be(HttpStatusCode.TooManyRequests, "no token at all is throttled too");
        (await GetAsync(fresh, h.Server.AdminToken)).StatusCode.Should().Be(HttpStatusCode.OK);

        var audit = await ((IAuditStore)h.Server.Store).AuditAsync(new AuditQuery("api", null, 100), default);
        audit.Select(e => e.Action).Should().Equal("auth.failed", "auth.failed", "auth.failed", "auth.failed", "auth.locked");
        audit[^1].Detail.Should().EndWith("5 failures from all addresses: callers without a valid token are refused until the window passes");
    }
}
