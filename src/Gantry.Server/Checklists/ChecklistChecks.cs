using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gantry.Server.Programs;

namespace Gantry.Server.Checklists;

/// <summary>The automated checks of a pre-deployment checklist. Each gives passed or not and one sentence; none throws.</summary>
public sealed class ChecklistChecks(HttpClient http, string manifestFolder, TimeProvider time)
{
    public async Task<(bool Passed, string Message)> RunAsync(ChecklistItem item, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(item.Timeout);
        try
        {
            return item.Check switch
            {
                TlsCheck tls => await TlsAsync(tls, limit.Token),
                HttpCheck h => await HttpAsync(h, limit.Token),
                TcpCheck tcp => await TcpAsync(tcp, limit.Token),
                CommandCheck c => await CommandAsync(c, item.Timeout, ct),
                DiskCheck d => Disk(d),
                _ => (false, "not an automated check"),
            };
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (false, string.Create(CultureInfo.InvariantCulture, $"no answer within {item.Timeout.TotalSeconds:0.#} s"));
        }
        catch (Exception ex) when (ex is SocketException or IOException or HttpRequestException or System.Security.Authentication.AuthenticationException or System.Security.Cryptography.CryptographicException)
        {
            return (false, ex.Message);
        }
    }

    private async Task<(bool, string)> TlsAsync(TlsCheck check, CancellationToken ct)
    {
        var host = check.Host ?? check.Address.Host;
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(check.Address.Host, check.Address.Port, ct);
        X509Certificate2? served = null;
        var errors = SslPolicyErrors.None;
        await using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        // Nothing is sent over this connection: the certificate is only inspected, and judged below.
#pragma warning disable CA5359
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = host,
            RemoteCertificateValidationCallback = (_, certificate, _, policyErrors) =>
            {
                // Accepted here so that the certificate can be judged and explained below.
                served = certificate is null ? null : new X509Certificate2(certificate);
                errors = policyErrors;
                return true;
            },
        }, ct);
#pragma warning restore CA5359
        using var cert = served;
        if (cert is null)
        {
            return (false, $"{check.Address} served no certificate");
        }

        var now = time.GetUtcNow();
        var notAfter = new DateTimeOffset(cert.NotAfter.ToUniversalTime());
        var subject = cert.GetNameInfo(X509NameType.DnsName, forIssuer: false);
        if (now > notAfter)
        {
            return (false, string.Create(CultureInfo.InvariantCulture, $"the certificate of {host} ({subject}) expired on {notAfter:yyyy-MM-dd}"));
        }

        if (now < new DateTimeOffset(cert.NotBefore.ToUniversalTime()))
        {
            return (false, string.Create(CultureInfo.InvariantCulture, $"the certificate of {host} is not valid before {cert.NotBefore.ToUniversalTime():yyyy-MM-dd}"));
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            return (false, $"the certificate served at {check.Address} is for {subject}, not {host}");
        }

        if (!Trusted(cert, check, errors, now, out var why))
        {
            return (false, $"the certificate of {host} is not trusted: {why}");
        }

        var days = (int)Math.Floor((notAfter - now).TotalDays);
        return days < check.MinDays
            ? (false, string.Create(CultureInfo.InvariantCulture, $"the certificate of {host} expires on {notAfter:yyyy-MM-dd}, in {days} days (fewer than {check.MinDays})"))
            : (true, string.Create(CultureInfo.InvariantCulture, $"the certificate of {host} is valid until {notAfter:yyyy-MM-dd} ({days} days), issued by {cert.GetNameInfo(X509NameType.SimpleName, forIssuer: true)}"));
    }

    /// <summary>The chain checked against the system's roots, or against the given CA when the check names one.</summary>
    private bool Trusted(X509Certificate2 cert, TlsCheck check, SslPolicyErrors errors, DateTimeOffset now, out string why)
    {
        why = string.Empty;
        if (check.CaFile is null)
        {
            why = "its chain does not lead to a trusted root";
            return !errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors);
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        var bundle = new X509Certificate2Collection();
        using var release = new CertificatesOf(bundle);
        bundle.ImportFromPemFile(Path.GetFullPath(Path.Combine(manifestFolder, check.CaFile)));
        chain.ChainPolicy.CustomTrustStore.AddRange(bundle);
        if (chain.Build(cert))
        {
            return true;
        }

        why = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
        return false;
    }

    /// <summary>Disposes the certificates of a collection (a collection holds them, but does not own them).</summary>
    private sealed class CertificatesOf(X509Certificate2Collection certificates) : IDisposable
    {
        public void Dispose()
        {
            foreach (var c in certificates)
            {
                c.Dispose();
            }
        }
    }

    private async Task<(bool, string)> HttpAsync(HttpCheck check, CancellationToken ct)
    {
        using var response = await http.GetAsync(check.Url, HttpCompletionOption.ResponseHeadersRead, ct);
        var code = (int)response.StatusCode;
        return (response.IsSuccessStatusCode, string.Create(CultureInfo.InvariantCulture, $"GET {check.Url} answered {code}"));
    }

    private static async Task<(bool, string)> TcpAsync(TcpCheck check, CancellationToken ct)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(check.Address.Host, check.Address.Port, ct);
        return (true, $"{check.Address} accepts connections");
    }

    private async Task<(bool, string)> CommandAsync(CommandCheck check, TimeSpan timeout, CancellationToken ct)
    {
        var run = await ProgramRunner.RunAsync(check.Args, check.Shell, manifestFolder, new Dictionary<string, string>(), timeout, ct);
        var shown = string.Join(' ', check.Args);
        return run.Error is { } error ? (false, error)
            : run.ExitCode == 0 ? (true, $"{shown} exited with 0")
            : (false, string.Create(CultureInfo.InvariantCulture, $"{shown} exited with {run.ExitCode}{(run.LastErrorLine.Length > 0 ? ": " + run.LastErrorLine : string.Empty)}"));
    }

    private (bool, string) Disk(DiskCheck check)
    {
        var path = Path.GetFullPath(Path.Combine(manifestFolder, check.Path));
        if (!Directory.Exists(path) && !File.Exists(path))
        {
            return (false, $"{check.Path} does not exist");
        }

        // The drive whose mount point is the longest prefix of the path holds it.
        var drive = DriveInfo.GetDrives().Where(d => d.IsReady && path.StartsWith(d.RootDirectory.FullName, StringComparison.Ordinal))
            .OrderByDescending(d => d.RootDirectory.FullName.Length).FirstOrDefault();
        if (drive is null || drive.TotalSize <= 0)
        {
            return (false, $"no file system found for {check.Path}");
        }

        var free = (double)drive.AvailableFreeSpace / drive.TotalSize;
        var text = string.Create(CultureInfo.InvariantCulture, $"{drive.RootDirectory.FullName} has {free * 100:0.#}% free ({drive.AvailableFreeSpace / (1024.0 * 1024 * 1024):0.#} GiB)");
        return free >= check.MinFree.Fraction ? (true, text) : (false, string.Create(CultureInfo.InvariantCulture, $"{text}, less than {check.MinFree}"));
    }
}
