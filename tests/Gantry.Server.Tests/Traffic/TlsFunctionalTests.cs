using System.Collections.Concurrent;
using System.Net;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests.Traffic;

/// <summary>A service served over HTTPS from the manifest's certificate: HTTP/2 clients see the canary's split; a renewed certificate reaches new connections.</summary>
[Collection(ServerTests.Name)]
public sealed class TlsFunctionalTests
{
    private const string Canary = """
        canary:
          steps:
            - setWeight: 50
            - pause: {}
        """;

    [Fact(Timeout = 120_000)]
    public async Task HttpsListen_Http2ClientsSeeTheSplit_AndARenewedCertificateIsServed()
    {
        var folder = Directory.CreateTempSubdirectory("gantry-server-tls-").FullName;
        var trusted = new ConcurrentDictionary<string, bool>();
        trusted[TestCertificates.Write(folder)] = true;
        await using var h = await ServerHarness.StartAsync(
            listen => ServerHarness.ManifestText(listen, Canary).Replace($"listen: {listen}", $"listen: https://{listen}\n    tls: {{ certificate: cert.pem, key: key.pem }}", StringComparison.Ordinal),
            dataFolder: folder);
        await h.WaitForPhaseAsync((await h.DeployAsync("v1")).Rollout.Id, RolloutPhase.Succeeded);
        var canary = await h.DeployAsync("v2");
        await h.WaitAsync(canary.Rollout.Id, v => v.Rollout.Traffic.CanaryWeight == 50 && v.Rollout.Waits.Count > 0);

        var presented = new ConcurrentBag<string>();
        HttpClient Client() => new(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => { presented.Add(certificate!.GetCertHashString()); return trusted.ContainsKey(certificate.GetCertHashString()); } },
        })
        {
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var url = new Uri($"https://{h.Listen}/api/items");
        using var client = Client();
        var versions = new List<string>();
        for (var i = 0; i < 200; i++)
        {
            using var response = await client.GetAsync(url);
            response.Version.Should().Be(HttpVersion.Version20);
            versions.Add(response.Headers.GetValues("X-App-Version").Single());
        }

        versions.Count(v => v == "v2").Should().BeInRange(90, 110, "half of the requests reach the canary");

        var renewed = TestCertificates.Write(folder);
        trusted[renewed] = true;
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        presented.Clear();
        using var fresh = Client();
        (await fresh.GetAsync(url)).StatusCode.Should().Be(HttpStatusCode.OK);
        presented.Should().Equal(renewed);
        (await client.GetAsync(url)).StatusCode.Should().Be(HttpStatusCode.OK, "the connection opened before the renewal goes on");
    }
}
