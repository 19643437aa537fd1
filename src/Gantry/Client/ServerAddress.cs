namespace Gantry.Client;

/// <summary>Which server a client command talks to. Shared by the full program and the native client (<c>Gantry.NativeCli</c>).</summary>
internal static class ServerAddress
{
    public const string Variable = "GANTRY_SERVER";

    /// <summary>Where <c>gantry server</c> listens unless told otherwise (the server's <c>ServerOptions.DefaultListen</c>).</summary>
    public const string DefaultListen = "127.0.0.1:7700";

    /// <summary>--server, else GANTRY_SERVER, else the config file's server, else the default local address.</summary>
    public static Uri Resolve(string? option, string? configured = null)
    {
        var text = option ?? Environment.GetEnvironmentVariable(Variable) ?? configured ?? $"http://{DefaultListen}";
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ApiException(ExitCodes.BadInput, $"'{text}' is not a server address (for example http://127.0.0.1:7700)");
    }
}
