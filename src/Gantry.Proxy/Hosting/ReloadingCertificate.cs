using System.Security.Cryptography.X509Certificates;
using Gantry.Proxy.Routing;

namespace Gantry.Proxy.Hosting;

/// <summary>
/// A listener's certificate from PEM files, looked at again at most once a second as connections arrive: when either
/// file changed (a renewal, a rotation) and the pair loads, new connections get the new certificate; connections
/// already open keep theirs. A pair that does not load (half written) is ignored until it does.
/// </summary>
public sealed class ReloadingCertificate(TimeProvider time) : IDisposable
{
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(1);
    private readonly Lock gate = new();
    private TlsSpec? spec;
    private (DateTime, long, DateTime, long) stamp;
    private X509Certificate2? current;
    private long checkedAt;

    /// <summary>Loads <paramref name="files"/> now (throws when they cannot be loaded: the table is refused), and follows them from then on.</summary>
    public void Use(TlsSpec files)
    {
        var loaded = Load(files);
        lock (gate)
        {
            var old = current;
            (spec, current, stamp, checkedAt) = (files, loaded, Stamp(files), time.GetTimestamp());
            old?.Dispose();
        }
    }

    /// <summary>The certificate for a new connection.</summary>
    public X509Certificate2 Current
    {
        get
        {
            lock (gate)
            {
                if (spec is not null && time.GetElapsedTime(checkedAt) >= CheckEvery)
                {
                    checkedAt = time.GetTimestamp();
                    Refresh(spec);
                }

                return current ?? throw new InvalidOperationException("no certificate loaded");
            }
        }
    }

    private void Refresh(TlsSpec files)
    {
        var now = Stamp(files);
        if (now == stamp)
        {
            return;
        }

        try
        {
            var loaded = Load(files);
            // The old certificate is not disposed: handshakes in progress may still hold it.
            (current, stamp) = (loaded, now);
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            // Half written, or a key that does not match yet: keep serving the previous certificate.
        }
    }

    private static (DateTime, long, DateTime, long) Stamp(TlsSpec files)
    {
        var certificate = new FileInfo(files.CertificateFile);
        var key = new FileInfo(files.KeyFile);
        return (certificate.Exists ? certificate.LastWriteTimeUtc : default, certificate.Exists ? certificate.Length : -1, key.Exists ? key.LastWriteTimeUtc : default, key.Exists ? key.Length : -1);
    }

    /// <summary>The pair as Kestrel can use it on every platform: exported and imported once with its key.</summary>
    private static X509Certificate2 Load(TlsSpec files)
    {
        using var pem = X509Certificate2.CreateFromPemFile(files.CertificateFile, files.KeyFile);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    public void Dispose()
    {
        lock (gate)
        {
            current?.Dispose();
            current = null;
        }
    }
}
