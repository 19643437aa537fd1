namespace Gantry.Client;

/// <summary>
/// Where the CLI finds its token and, optionally, its server. First found wins: the admin token of the data
/// directory given with <c>--data</c>; <c>GANTRY_TOKEN</c>; the config file (<c>GANTRY_CONFIG</c>, else
/// <c>~/.config/gantry/config</c>, lines <c>token: ...</c> and <c>server: ...</c>); the admin token of the
/// default data directory (<c>.gantry</c> beside <c>gantry.yaml</c> in the current directory). Files holding a
/// token must be readable by their owner only (0600).
/// </summary>
internal sealed record Credentials(string? Token, string? Server, string Source)
{
    public const string TokenVariable = "GANTRY_TOKEN";
    public const string ConfigVariable = "GANTRY_CONFIG";

    /// <summary>The admin token a server writes in its data directory (the server's <c>TokenService.LocalAdminFile</c>).</summary>
    public static string AdminTokenFile(string dataDirectory) => Path.Combine(dataDirectory, "admin.token");

    public static Credentials Resolve(string? dataDirectory)
    {
        if (dataDirectory is not null)
        {
            var file = AdminTokenFile(dataDirectory);
            return File.Exists(file)
                ? new Credentials(ReadSecretFile(file), null, file)
                : throw new ApiException(ExitCodes.BadInput, $"--data {dataDirectory}: there is no {Path.GetFileName(file)} there (is it a gantry server's data directory?)");
        }

        if (Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } token)
        {
            return new Credentials(token.Trim(), null, TokenVariable);
        }

        var config = ConfigFile();
        if (config is not null && File.Exists(config))
        {
            string? configToken = null;
            string? configServer = null;
            var lines = Read(config).Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length == 0 || line.StartsWith('#'))
                {
                    continue;
                }

                var colon = line.IndexOf(':', StringComparison.Ordinal);
                var key = colon < 0 ? line : line[..colon].Trim();
                var value = colon < 0 ? string.Empty : line[(colon + 1)..].Trim().Trim('"');
                switch (key)
                {
                    case "token":
                        configToken = value;
                        break;
                    case "server":
                        configServer = value;
                        break;
                    default:
                        throw new ApiException(ExitCodes.BadInput, $"{config}:{i + 1}:1: unknown key '{key}' (the config file has 'token:' and 'server:')");
                }
            }

            if (configToken is not null)
            {
                CheckOwnerOnly(config);
            }

            if (configToken is not null || configServer is not null)
            {
                return new Credentials(configToken, configServer, config);
            }
        }

        var local = AdminTokenFile(Path.Combine(Environment.CurrentDirectory, ".gantry"));
        return File.Exists(local) ? new Credentials(ReadSecretFile(local), null, local) : new Credentials(null, null, "nowhere");
    }

    private static string? ConfigFile()
    {
        if (Environment.GetEnvironmentVariable(ConfigVariable) is { Length: > 0 } path)
        {
            return path;
        }

        var home = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } profile ? Path.Combine(profile, ".config") : null;
        return home is null ? null : Path.Combine(home, "gantry", "config");
    }

    /// <summary>Reads a file holding a token, refusing one that others can read.</summary>
    private static string ReadSecretFile(string path)
    {
        CheckOwnerOnly(path);
        return Read(path);
    }

    private static void CheckOwnerOnly(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
            {
                throw new ApiException(ExitCodes.BadInput, $"{path} holds a token but others may read it (mode {Convert.ToString((int)mode, 8)}): run 'chmod 600 {path}'");
            }
        }
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ApiException(ExitCodes.BadInput, $"cannot read {path}: {ex.Message}");
        }
    }
}
