namespace Gantry.Tests.Commands;

/// <summary>The CLI runs in the test process and reads GANTRY_TOKEN from it: tests that set it take turns.</summary>
internal static class TokenEnvironment
{
    internal static readonly SemaphoreSlim Turn = new(1, 1);

    /// <summary>Runs the CLI with <paramref name="token"/> in GANTRY_TOKEN (and no --data), then clears it.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunAsAsync(string token, params string[] args)
    {
        await Turn.WaitAsync();
        try
        {
            Environment.SetEnvironmentVariable("GANTRY_TOKEN", token);
            return await GantryCliTests.RunAsync(args);
        }
        finally
        {
            Environment.SetEnvironmentVariable("GANTRY_TOKEN", null);
            Turn.Release();
        }
    }
}
