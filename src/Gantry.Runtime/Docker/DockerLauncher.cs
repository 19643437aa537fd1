using Gantry.Core.Runtime;
using System.Globalization;
using System.Text.Json.Nodes;
using Gantry.Core.Manifest;
using Gantry.Runtime.Process;

namespace Gantry.Runtime.Docker;

/// <summary>
/// Starts instances as containers of a Docker engine: the image with {version} filled in, on host networking
/// listening on the port Gantry leased, labelled with owner, service, environment, version, set and instance; the
/// process runtime supervises them like processes (probes, restarts, stopping), through the container's first
/// process as the host sees it.
/// </summary>
public sealed class DockerLauncher(DockerEngine engine, string owner) : IInstanceLauncher, IDisposable
{
    public void Dispose() => engine.Dispose();

    public const string OwnerLabel = "org.gantry.owner";

    /// <summary>The user and group containers run as: nobody.</summary>
    public const string Unprivileged = "65534:65534";

    public string Kind => DockerSpec.RuntimeKind;

    /// <summary>The container of an instance: named after the owner and the instance, so a retry finds the last one.</summary>
    public string ContainerOf(string instanceId) => $"gantry-{owner}-{instanceId}";

    public async Task<LaunchedProcess> LaunchAsync(InstanceLaunch launch, CancellationToken ct)
    {
        var docker = (DockerSpec)launch.Spec.Service.Runtime;
        var name = ContainerOf(launch.Id);
        await engine.RemoveAsync(name, ct);
        var env = new JsonArray([.. launch.Environment.Select(p => (JsonNode)JsonValue.Create($"{p.Key}={p.Value}")!)]);
        var host = new JsonObject { ["NetworkMode"] = "host", ["Init"] = false };
        if (docker.MemoryBytes is { } memory)
        {
            host["Memory"] = memory;
            host["MemorySwap"] = memory;
        }

        if (docker.Cpus is { } cpus)
        {
            host["NanoCpus"] = (long)(cpus * 1_000_000_000);
        }

        var body = new JsonObject
        {
            ["Image"] = Placeholders.Expand(docker.Image, launch.Values),
            // Never root, as for processes (decision 0001): on host networking a root container could bind or sniff
            // what the host can. The image's files must be readable by others (its /tmp writable).
            ["User"] = Unprivileged,
            ["Cmd"] = new JsonArray([.. docker.Args.Select(a => (JsonNode)JsonValue.Create(Placeholders.Expand(a, launch.Values))!)]),
            ["Env"] = env,
            ["StopTimeout"] = (int)Math.Ceiling(docker.StopTimeout.TotalSeconds),
            ["Labels"] = new JsonObject
            {
                [OwnerLabel] = owner,
                ["org.gantry.service"] = launch.Spec.Service.Name,
                ["org.gantry.environment"] = launch.Spec.Environment,
                ["org.gantry.version"] = launch.Spec.Version,
                ["org.gantry.set"] = launch.Spec.Key,
                ["org.gantry.instance"] = launch.Id,
            },
            ["HostConfig"] = host,
        };
        string id;
        try
        {
            id = await engine.CreateAsync(name, body, ct);
        }
        catch (DockerException missing) when (missing.Status == 404)
        {
            // No such image: no registry here to pull it from, and waiting will not make it appear.
            throw new InstanceCannotStartException(missing.Message);
        }

        await engine.StartAsync(id, ct);
        var info = await engine.InspectAsync(id, ct);
        if (info is not { State: "running", Pid: > 0 })
        {
            throw new InvalidOperationException($"container {name} did not stay up: {Describe(info, await engine.LogsAsync(id, 5, ct))}");
        }

        return new LaunchedProcess(info.Pid, ProcessStat.StartTime(info.Pid) ?? 0);
    }

    public Task RemoveAsync(string instanceId, CancellationToken ct) => engine.RemoveAsync(ContainerOf(instanceId), ct);

    public IReadOnlyList<string> Logs(string instanceId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            return engine.LogsAsync(ContainerOf(instanceId), 1000, timeout.Token).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            return [];
        }
    }

    public string ExitOf(string instanceId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            var name = ContainerOf(instanceId);
            var info = engine.InspectAsync(name, timeout.Token).GetAwaiter().GetResult();
            return Describe(info, engine.LogsAsync(name, 3, timeout.Token).GetAwaiter().GetResult());
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException or DockerException)
        {
            return "exited";
        }
    }

    private static string Describe(ContainerInfo? info, IReadOnlyList<string> last)
    {
        var how = info is null ? "gone" : info.OomKilled ? "OOMKilled" : string.Create(CultureInfo.InvariantCulture, $"exited with code {info.ExitCode}");
        return last.Count == 0 ? how : $"{how}; last lines: {string.Join(" | ", last)}";
    }
}
