using System.Runtime.InteropServices;

namespace Gantry.Runtime.Process;

/// <summary>
/// What an instance process is kept from: the control plane's own environment (only a short safe list is passed
/// on), the data directory (never its working directory), and, when the server runs as root, the server's
/// user (instances run as <see cref="DefaultUser"/> or the service's <c>runAs</c>, through <c>setpriv</c> with
/// no new privileges).
/// </summary>
/// <param name="DefaultUser">The user instances run as when the server is root and the service names none; null: the server's own user.</param>
/// <param name="ProtectedFolders">Folders an instance may never work in (the data directory: tokens, database, keys).</param>
public sealed partial record InstanceIsolation(string? DefaultUser, IReadOnlyList<string> ProtectedFolders)
{
    /// <summary>The dedicated unprivileged user a root server runs instances as when the manifest names none.</summary>
    public const string DedicatedUser = "gantry-instance";

    /// <summary>No isolation beyond the clean environment: instances run as the caller (library use, tests of the runtime alone).</summary>
    public static InstanceIsolation None { get; } = new(null, []);

    /// <summary>The embedded server's isolation: a dedicated user when running as root, the data directory protected.</summary>
    public static InstanceIsolation ForServer(string dataDirectory) => new(IsRoot ? DedicatedUser : null, [Path.GetFullPath(dataDirectory)]);

    /// <summary>Variables passed on from the server's environment: locale, time zone, where programs and the .NET runtime are. Nothing else (no credentials).</summary>
    public static IReadOnlyList<string> Passed { get; } = ["PATH", "LANG", "LANGUAGE", "TZ", "DOTNET_ROOT"];

    public static bool IsRoot => OperatingSystem.IsLinux() && GetEuid() == 0;

    /// <summary>The environment an instance starts with: the safe list from <paramref name="server"/>, HOME and USER of whom it runs as.</summary>
    public static Dictionary<string, string> BaseEnvironment(IDictionary<string, string?> server, UserAccount? user)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in server)
        {
            if (value is not null && (Passed.Contains(key) || key.StartsWith("LC_", StringComparison.Ordinal)))
            {
                result[key] = value;
            }
        }

        if (user is not null)
        {
            result["HOME"] = user.Home;
            result["USER"] = result["LOGNAME"] = user.Name;
        }
        else if (server.TryGetValue("HOME", out var home) && home is not null)
        {
            result["HOME"] = home;
        }

        return result;
    }

    /// <summary>Why <paramref name="workingDirectory"/> may not be used, or null.</summary>
    public string? Refusal(string workingDirectory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(workingDirectory));
        foreach (var folder in ProtectedFolders.Select(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f))))
        {
            if (full == folder || full.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                return $"working directory {full} is inside the data directory {folder} (tokens, database, keys): give the service a workingDir outside it";
            }
        }

        return null;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();
}

/// <summary>A local user account as /etc/passwd has it.</summary>
public sealed record UserAccount(string Name, int Uid, int Gid, string Home)
{
    private static readonly SemaphoreSlim Creating = new(1, 1);

    /// <summary>The account named <paramref name="name"/>, or null when there is none.</summary>
    public static UserAccount? Find(string name)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var parts = line.Split(':');
            if (parts.Length >= 7 && parts[0] == name
                && int.TryParse(parts[2], System.Globalization.CultureInfo.InvariantCulture, out var uid)
                && int.TryParse(parts[3], System.Globalization.CultureInfo.InvariantCulture, out var gid))
            {
                return new UserAccount(name, uid, gid, parts[5].Length == 0 ? "/" : parts[5]);
            }
        }

        return null;
    }

    /// <summary>
    /// The account instances run as: it must exist, unless it is the dedicated user, which is created (a system
    /// account with no home and no login shell). Root is never accepted.
    /// </summary>
    public static async Task<UserAccount> ResolveAsync(string name, CancellationToken ct)
    {
        if (Find(name) is { } found)
        {
            return found.Uid == 0 ? throw new InvalidOperationException($"instances may not run as {name}: it is root (uid 0)") : found;
        }

        if (name != InstanceIsolation.DedicatedUser)
        {
            throw new InvalidOperationException($"runAs user '{name}' does not exist on this host: create it or name another");
        }

        await Creating.WaitAsync(ct);
        try
        {
            if (Find(name) is { } raced)
            {
                return raced;
            }

            // Another server (or test run) may be creating it at the same moment and hold the passwd lock: try a few times.
            var error = string.Empty;
            for (var attempt = 0; attempt < 5; attempt++)
            {
                using var add = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("useradd", ["--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name])
                {
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                })!;
                error = await add.StandardError.ReadToEndAsync(ct);
                await add.WaitForExitAsync(ct);
                if (Find(name) is { } created)
                {
                    return created;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200 * (attempt + 1)), ct);
            }

            throw new InvalidOperationException($"could not create the user {name} that instances run as: {error.Trim()}");
        }
        finally
        {
            Creating.Release();
        }
    }
}
