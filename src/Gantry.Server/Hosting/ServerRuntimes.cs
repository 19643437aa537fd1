using Gantry.Runtime.Process;

namespace Gantry.Server.Hosting;

/// <summary>
/// The marks a server's instances carry: <see cref="Machine"/> on what belongs to this data directory (processes,
/// containers of this machine's engine), <see cref="Shared"/> on what all replicas of its store share (swarm services).
/// </summary>
internal sealed record Owners(string Machine, string Shared);

/// <summary>The runtimes a server's manifest needs, each engine reached before the server starts.</summary>
internal static class ServerRuntimes
{
    /// <summary>
    /// The process runtime, with the Docker engine's beside it when a service has a docker section and a swarm's when
    /// one has a swarm section (each engine reached now: an unreachable one, or a swarm engine that is no manager, is one clear line).
    /// </summary>
    public static async Task<Core.Runtime.IRuntime> RuntimeFor(GantryManifest manifest, ServerOptions options, Owners owners, string? records, IReadOnlyList<AdoptionRecord> adoptable, TimeProvider time, Action<Core.Runtime.InstanceSetId, Exception> retirementFailed, CancellationToken ct)
    {
        var logs = Path.Combine(options.DataDirectory, "logs");
        var owner = owners.Machine;
        var runtimes = new List<Core.Runtime.IRuntime> { new ProcessRuntime(time, logs, owner, InstanceIsolation.ForServer(options.DataDirectory), records, adoptable) { SharedRecords = options.Clustered, RetirementFailed = retirementFailed } };
        var sections = manifest.Services.SelectMany(s => EffectiveService.RuntimesOf(manifest, s)).ToList();
        try
        {
            if (sections.Any(r => r is DockerSpec))
            {
                var engine = await ReachAsync(swarm: false, ct);
                runtimes.Add(new ProcessRuntime(time, logs, owner, null, records, adoptable, new Runtime.Docker.DockerLauncher(engine, owner, time)) { SharedRecords = options.Clustered, RetirementFailed = retirementFailed });
            }

            if (sections.Any(r => r is SwarmSpec))
            {
                runtimes.Add(new Runtime.Swarm.SwarmRuntime(await ReachAsync(swarm: true, ct), owners.Shared, time));
            }
        }
        catch
        {
            foreach (var runtime in runtimes)
            {
                await runtime.DisposeAsync();
            }

            throw;
        }

        return runtimes.Count == 1 ? runtimes[0] : new Runtime.RuntimeSet(runtimes);
    }

    /// <summary>The engine DOCKER_HOST names, answering (and a manager of a swarm when <paramref name="swarm"/>).</summary>
    private static async Task<Runtime.Docker.DockerEngine> ReachAsync(bool swarm, CancellationToken ct)
    {
        var engine = Runtime.Docker.DockerEngine.FromEnvironment();
        var why = await engine.UnreachableAsync(ct) is { } unreachable ? $"{unreachable}; set DOCKER_HOST or start dockerd"
            : swarm ? await engine.NotAManagerAsync(ct)
            : null;
        if (why is not null)
        {
            engine.Dispose();
            throw new InvalidOperationException(why);
        }

        return engine;
    }
}
