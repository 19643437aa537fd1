using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gantry.Api;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Server.Logging;
using Gantry.Server.Rollouts;
using Gantry.Testing;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Tests.Security;

/// <summary>How the API is served: TLS when asked, metrics and the API description closed off loopback by default, errors logged with an id the 500 names.</summary>
[Collection(ServerTests.Name)]
public sealed class ApiHostingTests : IAsyncLifetime
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-hosting-").FullName;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
        return ValueTask.CompletedTask;
    }

    private static GantryManifest Manifest() => ManifestLoader.LoadText(ServerHarness.ManifestText(new Endpoint("127.0.0.1", FreePort.Next()), "rolling: {}", replicas: 1)).Manifest!;

    private Task<GantryServer> StartAsync(ServerOptions options, ILoggerFactory? loggers = null) =>
        GantryServer.StartAsync(Manifest(), folder, options, TimeProvider.System, loggers, CancellationToken.None);

    private ServerOptions Options(bool? publicMetrics = null, ApiTls? tls = null) =>
        new(Path.Combine(folder, "data"), new Endpoint("127.0.0.1", FreePort.Next()), Tls: tls, PublicMetrics: publicMetrics);

    [Fact(Timeout = 60_000)]
    public async Task Tls_WithACertificate_ServesHttpsOnly()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var certFile = Path.Combine(folder, "api.crt");
        var keyFile = Path.Combine(folder, "api.key");
        await File.WriteAllTextAsync(certFile, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, key.ExportPkcs8PrivateKeyPem());

        await using var server = await StartAsync(Options(tls: new ApiTls(certFile, keyFile)));
        server.Address.Scheme.Should().Be("https");
        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString() },
        })
        { BaseAddress = server.Address };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", server.AdminToken);
        (await client.GetAsync("/api/v1/services")).StatusCode.Should().Be(HttpStatusCode.OK);

        using var plain = new HttpClient { BaseAddress = new Uri($"http://{server.Address.Authority}") };
        var clear = async () => (await plain.GetAsync("/health")).EnsureSuccessStatusCode();
        await clear.Should().ThrowAsync<HttpRequestException>("the API answers TLS only");

        var broken = async () => await StartAsync(Options(tls: new ApiTls(certFile, Path.Combine(folder, "missing.key"))) with { DataDirectory = Path.Combine(folder, "other") });
        (await broken.Should().ThrowAsync<InvalidOperationException>()).WithMessage($"the TLS certificate {certFile} with key {Path.Combine(folder, "missing.key")} could not be loaded*");
    }

    [Fact(Timeout = 60_000)]
    public async Task Metrics_ClosedWhenAsked_AndByDefaultOffLoopback()
    {
        new ServerOptions("d", new Endpoint("0.0.0.0", 7700)).MetricsArePublic.Should().BeFalse("off loopback, metrics need a token by default");
        new ServerOptions("d", new Endpoint("0.0.0.0", 7700)).Warning.Should().StartWith("the API listens on 0.0.0.0:7700 without TLS");
        new ServerOptions("d", new Endpoint("0.0.0.0", 7700), Tls: new ApiTls("c", "k")).Warning.Should().BeNull();
        new ServerOptions("d", new Endpoint("127.0.0.1", 7700)).MetricsArePublic.Should().BeTrue();
        new ServerOptions("d", new Endpoint("127.0.0.1", 7700)).Warning.Should().BeNull();

        await using var server = await StartAsync(Options(publicMetrics: false));
        using var anonymous = new HttpClient { BaseAddress = server.Address };
        (await anonymous.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await anonymous.GetAsync("/api/v1/openapi.json")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await anonymous.GetAsync("/health")).StatusCode.Should().Be(HttpStatusCode.OK, "health stays public for load balancers");
        anonymous.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", server.AdminToken);
        (await anonymous.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact(Timeout = 90_000)]
    public async Task ServerError_IsLoggedToTheFileWithTheIdThe500Names()
    {
        var log = Path.Combine(folder, "server.log");
        var options = Options();
        await using (var first = await StartAsync(options))
        {
            using var api = new HttpClient { BaseAddress = first.Address };
            api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", first.AdminToken);
            (await api.PostAsJsonAsync("/api/v1/rollouts", new DeployRequest("shop", "v1", Set: new Dictionary<string, string> { ["K"] = "v" }, Secret: ["K"]), GantryJson.Options)).StatusCode.Should().Be(HttpStatusCode.Created);
        }

        // The key is replaced (restored from another machine, say): reading the rollout fails, and says where to look.
        await File.WriteAllTextAsync(Path.Combine(options.DataDirectory, "secrets.key"), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) + "\n");
        using var loggers = LoggerFactory.Create(b => b.AddProvider(new JsonFileLoggerProvider(log, TimeProvider.System)));
        await using var second = await StartAsync(options with { Listen = new Endpoint("127.0.0.1", FreePort.Next()) }, loggers);
        using var client = new HttpClient { BaseAddress = second.Address };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", second.AdminToken);
        using var failed = await client.GetAsync("/api/v1/rollouts/shop-default-1");
        failed.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var detail = JsonDocument.Parse(await failed.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;
        detail.Should().MatchRegex("^the server failed \\(error [0-9a-f]{8}\\); its log has the details$");
        var id = detail[(detail.IndexOf("error ", StringComparison.Ordinal) + 6)..][..8];

        var lines = (await ReadSharedAsync(log)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        lines.Should().Contain(l => l.GetProperty("message").GetString()!.StartsWith("API listening on http://127.0.0.1:", StringComparison.Ordinal));
        var entry = lines.Single(l => l.GetProperty("message").GetString() == $"GET /api/v1/rollouts/shop-default-1 failed (error {id})");
        entry.GetProperty("level").GetString().Should().Be("Error");
        entry.GetProperty("exception").GetString().Should().Contain("a stored secret could not be decrypted");
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
