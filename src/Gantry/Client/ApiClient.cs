using Gantry.Api;

namespace Gantry.Client;

/// <summary>Why a command could not do what was asked; carries the exit code to use.</summary>
internal sealed class ApiException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>The CLI's side of the REST API: finds the server and the token, and says a failed call in one readable line with its exit code.</summary>
internal static class ApiClient
{
    public const string ServerVariable = "GANTRY_SERVER";

    /// <summary>A typed client with the server and token the command line, the environment and the config file give.</summary>
    public static GantryClient Connect(string? serverOption, string? dataOption)
    {
        var credentials = Credentials.Resolve(dataOption);
        return For(Resolve(serverOption, credentials.Server), credentials.Token);
    }

    /// <summary>A typed client whose answers are cleared of terminal control sequences before they are read.</summary>
    public static GantryClient For(Uri server, string? token) => new(server, token) { TextFilter = TerminalText.EscapeJson };

    /// <summary>--server, else GANTRY_SERVER, else the config file's server, else the default local address.</summary>
    public static Uri Resolve(string? option, string? configured = null)
    {
        var text = option ?? Environment.GetEnvironmentVariable(ServerVariable) ?? configured ?? $"http://{Gantry.Server.ServerOptions.DefaultListen}";
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ApiException(ExitCodes.BadInput, $"'{text}' is not a server address (for example http://127.0.0.1:7700)");
    }

    /// <summary>A failed call as the CLI says it: the server's detail with the problem's catalog code, and the exit code.</summary>
    public static ApiException Explain(ApiCallException failure) => failure.Failure switch
    {
        ApiFailure.Refused when failure.Problem is { } p => new ApiException(
            p.Status is 401 or 403 or 429 ? ExitCodes.Denied : ExitCodes.BadInput,
            $"{p.Detail} [{p.Code}]"),
        ApiFailure.Unreachable => new ApiException(ExitCodes.Unreachable, $"{failure.Message}; start it with 'gantry server', or point --server / {ServerVariable} at it"),
        ApiFailure.TimedOut => new ApiException(ExitCodes.Unreachable, failure.Message),
        _ => new ApiException(ExitCodes.Failed, failure.Message),
    };
}
