using System.Reflection;
using Gantry.Client;

namespace Gantry.NativeCli;

/// <summary>
/// The gantry command in front of the full program: a command line it reads whole (<see cref="FastCommand"/>) is
/// answered here, in milliseconds; any other is handed, unchanged, to the full program (<see cref="FullProgram"/>),
/// as is a call that reached no server, so that what it says is said in one place.
/// </summary>
internal static class NativeClient
{
    /// <summary>Gantry's version, as the full program says it: the informational version without build metadata.</summary>
    public static string Version { get; } =
        (typeof(NativeClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args is ["--version"])
        {
            await output.WriteLineAsync(Version);
            return ExitCodes.Success;
        }

        if (FastCommand.Parse(args) is not { } command)
        {
            return FullProgram.Run(args, error);
        }

        try
        {
            var credentials = Credentials.Resolve(command.Data);
            using var api = new ApiCall(ServerAddress.Resolve(command.Server, credentials.Server), credentials.Token);
            return await command.RunAsync(api, output, CancellationToken.None);
        }
        catch (NotAnsweredHereException)
        {
            return FullProgram.Run(args, error);
        }
        catch (ApiException ex)
        {
            await error.WriteLineAsync($"gantry: {ex.Message}");
            return ex.ExitCode;
        }
    }
}
