using System.Security.Cryptography;
using System.Text;
using Gantry.Core.Rollouts;

namespace Gantry.Storage.Secrets;

/// <summary>
/// Encrypts the values of secret variables at rest with AES-256-GCM: each value sealed on its own with a fresh
/// 96-bit nonce, stored as <c>enc:v1:</c> and base64 of nonce, tag and ciphertext. The key comes from
/// <c>GANTRY_SECRET_KEY</c> (base64 of 32 bytes) or from <c>secrets.key</c> in the data directory (mode 0600,
/// made on first use). A value without the prefix (written before encryption) is read as it is.
/// </summary>
public sealed class SecretBox
{
    public const string KeyVariable = "GANTRY_SECRET_KEY";
    public const string KeyFile = "secrets.key";
    private const string Prefix = "enc:v1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] key;

    public SecretBox(byte[] key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("the secret key must be 32 bytes (AES-256)", nameof(key));
        }

        this.key = key;
    }

    /// <summary>Where the key comes from: the environment, or the data directory's key file (made when missing).</summary>
    public static SecretBox ForDataDirectory(string dataDirectory)
    {
        if (Environment.GetEnvironmentVariable(KeyVariable) is { Length: > 0 } text)
        {
            try
            {
                return new SecretBox(Convert.FromBase64String(text.Trim()));
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                throw new InvalidOperationException($"{KeyVariable} must be the base64 of 32 random bytes (for example: head -c 32 /dev/urandom | base64)", ex);
            }
        }

        var path = Path.Combine(dataDirectory, KeyFile);
        if (!File.Exists(path))
        {
            var fresh = RandomNumberGenerator.GetBytes(32);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            try
            {
                using var file = new FileStream(path, options);
                file.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(fresh) + "\n"));
                return new SecretBox(fresh);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Made meanwhile by another process: read it below.
            }
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
        {
            throw new InvalidOperationException($"{path} may be read by others: run 'chmod 600 {path}'");
        }

        try
        {
            return new SecretBox(Convert.FromBase64String(File.ReadAllText(path).Trim()));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException)
        {
            throw new InvalidOperationException($"{path} does not hold a secret key (base64 of 32 bytes)", ex);
        }
    }

    public static bool IsSealed(string value) => value.StartsWith(Prefix, StringComparison.Ordinal);

    public string Seal(string value)
    {
        var plain = Encoding.UTF8.GetBytes(value);
        var sealedBytes = new byte[NonceSize + TagSize + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceSize + TagSize), sealedBytes.AsSpan(NonceSize, TagSize));
        return Prefix + Convert.ToBase64String(sealedBytes);
    }

    public string Open(string value)
    {
        if (!IsSealed(value))
        {
            return value;
        }

        try
        {
            var bytes = Convert.FromBase64String(value[Prefix.Length..]);
            var plain = new byte[bytes.Length - NonceSize - TagSize];
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(bytes.AsSpan(0, NonceSize), bytes.AsSpan(NonceSize + TagSize), bytes.AsSpan(NonceSize, TagSize), plain);
            return Encoding.UTF8.GetString(plain);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException or OverflowException or ArgumentException)
        {
            throw new InvalidOperationException($"a stored secret could not be decrypted: the key ({KeyVariable} or {KeyFile}) is not the one it was written with", ex);
        }
    }

    /// <summary>The release with its secret values sealed (other variables as they are).</summary>
    public Release Seal(Release release) => Map(release, v => IsSealed(v) ? v : Seal(v));

    /// <summary>The release with its secret values readable again.</summary>
    public Release Open(Release release) => Map(release, Open);

    private static Release Map(Release release, Func<string, string> map) => release.Secret.IsEmpty
        ? release
        : release with { Variables = [.. release.Variables.Select(v => release.Secret.Contains(v.Key) ? new KeyValuePair<string, string>(v.Key, map(v.Value)) : v)] };
}
