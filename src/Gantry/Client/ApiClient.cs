using Gantry.Api;

namespace Gantry.Client;

/// <summary>The CLI's side of the REST API: finds the server and the token, and says a failed call in one readable line with its exit code.</summary>
internal static class ApiClient
{
    public const string ServerVariable = ServerAddress.Variable;

    /// <summary>A typed client with the server and token the command line, the environment and the config file give.</summary>
    public static GantryClient Connect(string? serverOption, string? dataOption)
    {
        var credentials = Credentials.Resolve(dataOption);
        return For(Resolve(serverOption, credentials.Server), credentials.Token);
    }

    /// <summary>A typed client whose answers are cleared of terminal control sequences before they are read.</summary>
    public static GantryClient For(Uri server, string? token) => new(server, token) { TextFilter = TerminalText.EscapeJson };

    /// <summary>--server, else GANTRY_SERVER, else the config file's server, else the default local address.</summary>
    public static Uri Resolve(string? option, string? configured = null) => ServerAddress.Resolve(option, configured);

    /// <summary>A failed call as the CLI says it: the server's detail with the problem's catalog code, and the exit code.</summary>
    public static ApiException Explain(ApiCallException failure) => failure.Failure switch
    {
        ApiFailure.Refused when failure.Problem is { } p => ApiException.Refused(p.Status, p.Detail, p.Code),
        ApiFailure.Unreachable => ApiException.Unreachable(failure.Message),
        ApiFailure.TimedOut => new ApiException(ExitCodes.Unreachable, failure.Message),
        _ => new ApiException(ExitCodes.Failed, failure.Message),
    };
}
