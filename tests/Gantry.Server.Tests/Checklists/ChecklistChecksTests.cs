using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Server.Checklists;

namespace Gantry.Server.Tests.Checklists;

/// <summary>The automated checklist checks against real local servers: a TLS server with certificates made for the test, HTTP, TCP, programs, disks.</summary>
public sealed class ChecklistChecksTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-checks-").FullName;
    private readonly HttpClient http = new(new SocketsHttpHandler { UseProxy = false });

    public void Dispose()
    {
        http.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private ChecklistChecks Checks => new(http, folder, TimeProvider.System);

    private static ChecklistItem Item(ChecklistCheck check) => new("item", check, true, Timeout);

    /// <summary>A CA and a certificate it issued for <paramref name="host"/>, valid from <paramref name="from"/> to <paramref name="to"/> (from now).</summary>
    private static (X509Certificate2 Ca, X509Certificate2 Leaf) Certificates(string host, TimeSpan from, TimeSpan to)
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Gantry Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ca = caRequest.CreateSelfSigned(now.AddDays(-400), now.AddDays(400));

        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest($"CN={host}", leafKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(host);
        leafRequest.CertificateExtensions.Add(names.Build());
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = leafRequest.Create(ca, now + from, now + to, RandomNumberGenerator.GetBytes(8));
        return (ca, issued.CopyWithPrivateKey(leafKey));
    }

    /// <summary>A TLS server on a free loopback port presenting <paramref name="certificate"/> to every client.</summary>
    private static (Endpoint Address, Task Serving, CancellationTokenSource Stop) Serve(X509Certificate2 certificate)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    using var client = await listener.AcceptTcpClientAsync(stop.Token);
                    await using var ssl = new SslStream(client.GetStream());
                    try
                    {
                        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }, stop.Token);
                    }
                    catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
                    {
                        // The client hung up after reading the certificate.
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                listener.Stop();
            }
        });
        return (new Endpoint("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port), serving, stop);
    }

    private async Task<(bool Passed, string Message)> TlsAsync(string servedFor, TimeSpan from, TimeSpan to, bool trustCa = true)
    {
        var (ca, leaf) = Certificates(servedFor, from, to);
        using (ca)
        using (leaf)
        {
            var caFile = Path.Combine(folder, "ca.pem");
            await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());
            var (address, serving, stop) = Serve(leaf);
            using (stop)
            {
                var result = await Checks.RunAsync(Item(new TlsCheck(address, "shop.test", 30, trustCa ? "ca.pem" : null)), CancellationToken.None);
                await stop.CancelAsync();
                await serving;
                return result;
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Tls_CertificateValidFor90Days_Passes()
    {
        var (passed, message) = await TlsAsync("shop.test", TimeSpan.FromDays(-1), TimeSpan.FromDays(90));
        passed.Should().BeTrue(message);
        message.Should().MatchRegex(@"^the certificate of shop\.test is valid until \d{4}-\d\d-\d\d \(89 days\), issued by Gantry Test CA$");
    }

    [Fact(Timeout = 30_000)]
    public async Task Tls_CertificateExpiringIn10Days_FailsWithTheDate()
    {
        var (passed, message) = await TlsAsync("shop.test", TimeSpan.FromDays(-80), TimeSpan.FromDays(10).Add(TimeSpan.FromHours(1)));
        passed.Should().BeFalse();
        message.Should().MatchRegex(@"^the certificate of shop\.test expires on \d{4}-\d\d-\d\d, in 10 days \(fewer than 30\)$");
    }

    [Fact(Timeout = 30_000)]
    public async Task Tls_ExpiredCertificate_Fails()
    {
        var (passed, message) = await TlsAsync("shop.test", TimeSpan.FromDays(-100), TimeSpan.FromDays(-3));
        passed.Should().BeFalse();
        message.Should().MatchRegex(@"^the certificate of shop\.test \(shop\.test\) expired on \d{4}-\d\d-\d\d$");
    }

    [Fact(Timeout = 30_000)]
    public async Task Tls_CertificateForAnotherHost_Fails()
    {
        var (passed, message) = await TlsAsync("other.test", TimeSpan.FromDays(-1), TimeSpan.FromDays(90));
        passed.Should().BeFalse();
        message.Should().MatchRegex(@"^the certificate served at 127\.0\.0\.1:\d+ is for other\.test, not shop\.test$");
    }

    [Fact(Timeout = 30_000)]
    public async Task Tls_CertificateFromAnUntrustedCa_Fails()
    {
        var (passed, message) = await TlsAsync("shop.test", TimeSpan.FromDays(-1), TimeSpan.FromDays(90), trustCa: false);
        passed.Should().BeFalse();
        message.Should().Be("the certificate of shop.test is not trusted: its chain does not lead to a trusted root");
    }

    [Fact(Timeout = 30_000)]
    public async Task HttpTcpCommandDisk_RealTargets_PassAndFailWithTheReason()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var open = new Endpoint("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port);
        (await Checks.RunAsync(Item(new TcpCheck(open)), CancellationToken.None)).Should().Be((true, $"{open} accepts connections"));
        listener.Stop();
        var closed = await Checks.RunAsync(Item(new TcpCheck(open)), CancellationToken.None);
        closed.Passed.Should().BeFalse();
        closed.Message.Should().Contain("refused");

        (await Checks.RunAsync(Item(new CommandCheck(["sh", "-c", "exit 0"], false)), CancellationToken.None)).Should().Be((true, "sh -c exit 0 exited with 0"));
        (await Checks.RunAsync(Item(new CommandCheck(["echo migrations pending >&2; exit 3"], true)), CancellationToken.None))
            .Should().Be((false, "echo migrations pending >&2; exit 3 exited with 3: migrations pending"));

        (await Checks.RunAsync(Item(new DiskCheck(".", new Percentage(0))), CancellationToken.None)).Passed.Should().BeTrue();
        var full = await Checks.RunAsync(Item(new DiskCheck(".", new Percentage(100))), CancellationToken.None);
        full.Passed.Should().BeFalse();
        full.Message.Should().MatchRegex(@"^/\S* has [\d.]+% free \([\d.]+ GiB\), less than 100%$");

        var unanswered = await Checks.RunAsync(Item(new HttpCheck(new Uri($"http://{open}/health"))), CancellationToken.None);
        unanswered.Passed.Should().BeFalse();
    }
}
