namespace Gantry.Client;

/// <summary>Why a command could not do what was asked; carries the exit code to use.</summary>
internal sealed class ApiException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>A problem the server answered, as the CLI says it: its detail with the catalog code; refusals of the caller exit with <see cref="ExitCodes.Denied"/>.</summary>
    public static ApiException Refused(int status, string detail, string code) =>
        new(status is 401 or 403 or 429 ? ExitCodes.Denied : ExitCodes.BadInput, $"{detail} [{code}]");

    /// <summary>The advice that goes with a server that cannot be reached.</summary>
    public static ApiException Unreachable(string message) =>
        new(ExitCodes.Unreachable, $"{message}; start it with 'gantry server', or point --server / {ServerAddress.Variable} at it");
}
