using System.Collections.Concurrent;
using System.Net;
using Gantry.Proxy.Routing;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Hosting;

/// <summary>TLS at the front door: HTTP/2 by ALPN across a split, and a rotated certificate served to new connections while open ones go on.</summary>
public sealed class TlsReloadTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-tls-reload-").FullName;
    private readonly ConcurrentDictionary<string, bool> trusted = new();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private HttpClient Client(int port, ConcurrentBag<string> seen) => new(new SocketsHttpHandler
    {
        SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => Trust(presented!.GetCertHashString(), seen) },
    })
    {
        BaseAddress = new Uri($"https://127.0.0.1:{port}"),
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    /// <summary>Only the certificates this test wrote are trusted; each one presented is noted.</summary>
    private bool Trust(string hash, ConcurrentBag<string> seen)
    {
        seen.Add(hash);
        return trusted.ContainsKey(hash);
    }

    private string Write()
    {
        var hash = TestCertificates.Write(folder);
        trusted[hash] = true;
        return hash;
    }

    [Fact(Timeout = 60_000)]
    public async Task RotatedCertificate_NewConnectionsGetIt_OpenConnectionsFinish()
    {
        var first = Write();
        await using var stable = await Upstream.StartAsync("stable");
        await using var canary = await Upstream.StartAsync("canary");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, stable), Tables.Group("canary", 1, canary)) with
        {
            Tls = new TlsSpec(Path.Combine(folder, "cert.pem"), Path.Combine(folder, "key.pem")),
        }));
        var seenByOld = new ConcurrentBag<string>();
        using var old = Client(router.Port, seenByOld);
        var served = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await old.GetAsync("/who");
            response.Version.Should().Be(HttpVersion.Version20);
            served.Add(await response.Content.ReadAsStringAsync());
        }

        served.Count(s => s == "canary").Should().Be(10, "the split holds over HTTP/2");
        seenByOld.Should().OnlyContain(h => h == first);

        var second = Write();
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var seenByNew = new ConcurrentBag<string>();
        using var fresh = Client(router.Port, seenByNew);
        (await fresh.GetAsync("/who")).StatusCode.Should().Be(HttpStatusCode.OK);
        seenByNew.Should().Equal(second);

        // The connection opened before the rotation is still the same HTTP/2 connection, and still served.
        for (var i = 0; i < 10; i++)
        {
            (await old.GetAsync("/who")).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        seenByOld.Should().OnlyContain(h => h == first, "no new handshake: the open connection went on");
    }

    [Fact(Timeout = 60_000)]
    public async Task BrokenCertificateFiles_AreIgnoredUntilTheyLoad()
    {
        var first = Write();
        await using var stable = await Upstream.StartAsync("stable");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, stable)) with
        {
            Tls = new TlsSpec(Path.Combine(folder, "cert.pem"), Path.Combine(folder, "key.pem")),
        }));
        await File.WriteAllTextAsync(Path.Combine(folder, "cert.pem"), "-----BEGIN CERTIFICATE-----\nhalf written");
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        var seen = new ConcurrentBag<string>();
        using var client = Client(router.Port, seen);
        (await client.GetAsync("/who")).StatusCode.Should().Be(HttpStatusCode.OK);
        seen.Should().Equal(new[] { first }, "the last certificate that loaded keeps serving");
    }
}
