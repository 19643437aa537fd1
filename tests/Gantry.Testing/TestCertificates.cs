using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gantry.Testing;

/// <summary>Self-signed certificates for 127.0.0.1 written as PEM files, as an operator would give them.</summary>
public static class TestCertificates
{
    /// <summary>Writes <c>cert.pem</c> and <c>key.pem</c> in <paramref name="folder"/> (replacing them) and returns the certificate's hash.</summary>
    public static string Write(string folder, string commonName = "127.0.0.1")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // Written beside and renamed over, as certificate tools do, so a reader never sees half a file.
        foreach (var (name, text) in new[] { ("key.pem", key.ExportPkcs8PrivateKeyPem()), ("cert.pem", certificate.ExportCertificatePem()) })
        {
            File.WriteAllText(Path.Combine(folder, name + ".tmp"), text);
            File.Move(Path.Combine(folder, name + ".tmp"), Path.Combine(folder, name), overwrite: true);
        }

        return certificate.GetCertHashString();
    }
}
