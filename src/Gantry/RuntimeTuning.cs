namespace Gantry;

/// <summary>
/// Runtime settings that suit one long-running command and not the others, applied at the top of <c>Main</c>, before
/// the runtime reads them (the first socket, the thread pool's start). A value the user set in the environment wins.
/// </summary>
public static class RuntimeTuning
{
    /// <summary>Where a setting goes: an environment variable, or an <see cref="AppContext"/> switch.</summary>
    public enum Kind
    {
        Environment,
        AppContext,
    }

    public sealed record Setting(Kind Kind, string Name, string Value);

    /// <summary>The settings for a command line, leaving out those the environment already sets.</summary>
    public static IReadOnlyList<Setting> For(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var settings = new List<Setting>();
        if (args is ["router", ..] && environment("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
        {
            // The router's request handling never blocks, and the hand-offs to the thread pool were a quarter of its CPU.
            settings.Add(new(Kind.Environment, "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1"));
        }

        if (args is ["server", ..] && environment("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit") is null)
        {
            // The control plane mostly waits (probes, timers, a tick); spinning before each sleep doubled what a wake-up
            // cost it. The router, a process of its own, keeps the spinning its throughput gains from.
            settings.Add(new(Kind.AppContext, "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", "0"));
        }

        return settings;
    }

    public static void Apply(IReadOnlyList<string> args)
    {
        // Read by the runtime as it started (StartSettings): not for the processes this one starts.
        foreach (var name in StartSettings.AddedForThisProcess(System.Environment.GetEnvironmentVariable))
        {
            System.Environment.SetEnvironmentVariable(name, null);
        }

        foreach (var setting in For(args, System.Environment.GetEnvironmentVariable))
        {
            if (setting.Kind == Kind.Environment)
            {
                System.Environment.SetEnvironmentVariable(setting.Name, setting.Value);
            }
            else if (AppContext.GetData(setting.Name) is null)
            {
                // A value from the runtime configuration file (runtimeconfig.json) wins as well.
                AppContext.SetData(setting.Name, setting.Value);
            }
        }
    }
}
