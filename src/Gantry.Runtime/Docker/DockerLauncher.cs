using Gantry.Core.Runtime;
using System.Globalization;
using Gantry.Core.Manifest;
using Gantry.Runtime.Process;

namespace Gantry.Runtime.Docker;

/// <summary>
/// Starts instances as containers of a Docker engine: the image with {version} filled in (pulled, with its
/// progress reported, when the engine does not have it), on host networking listening on the port Gantry leased,
/// labelled with owner, service, environment, version, set and instance. A stopped container of the same
/// configuration (a retained release) is started rather than created. The process runtime supervises them like
/// processes (probes, restarts, stopping), through the container's first process as the host sees it.
/// </summary>
public sealed partial class DockerLauncher(DockerEngine engine, string owner, TimeProvider time) : IInstanceLauncher, IDisposable
{
    private readonly SecretFiles secrets = new(owner);

    public void Dispose() => engine.Dispose();

    public string Kind => DockerSpec.RuntimeKind;

    /// <summary>The container of an instance: named after the owner and the instance, so a retry (or a rollback) finds the last one.</summary>
    public string ContainerOf(string instanceId) => $"gantry-{owner}-{instanceId}";

    public async Task<LaunchedProcess> LaunchAsync(InstanceLaunch launch, CancellationToken ct)
    {
        var docker = (DockerSpec)launch.Spec.Service.Runtime;
        var name = ContainerOf(launch.Id);
        var folder = launch.Secrets.Count == 0 ? null : secrets.Write(launch.Id, launch.Secrets, docker.User ?? ContainerBody.Unprivileged);
        var body = ContainerBody.For(launch, owner, folder);
        var kept = await engine.InspectAsync(name, ct);
        string id;
        if (kept is { State.Running: false } && kept.Labels.GetValueOrDefault(ContainerBody.ConfigurationLabel) == ContainerBody.ConfigurationOf(body))
        {
            // A retained release (or this instance's last run) of the very same configuration: a start, not a create.
            id = kept.Id;
        }
        else
        {
            if (kept is not null)
            {
                await engine.RemoveAsync(name, ct);
            }

            try
            {
                id = await engine.CreateAsync(name, body, ct);
            }
            catch (DockerException missing) when (missing.Status == 404)
            {
                // The engine lacks the image (as the docker CLI does): pull it, then create.
                await PullAsync(body["Image"]!.GetValue<string>(), launch.Progress, ct);
                id = await engine.CreateAsync(name, body, ct);
            }
        }

        await engine.StartAsync(id, ct);
        var info = await engine.InspectAsync(id, ct);
        if (info is not { State.Running: true, Pid: > 0 })
        {
            throw new InvalidOperationException($"container {name} did not stay up: {Describe(info, await engine.LogsAsync(id, 5, ct))}");
        }

        return new LaunchedProcess(info.Pid, ProcessStat.StartTime(info.Pid) ?? 0, ContainerBody.SignalNumber(docker.StopSignal));
    }

    /// <summary>Removes every container (running or kept) of the server whose instances carry <paramref name="owner"/>; how many there were.</summary>
    public static async Task<int> RemoveAllAsync(DockerEngine engine, string owner, CancellationToken ct)
    {
        var containers = await engine.ListAsync(new Dictionary<string, string> { [ContainerBody.OwnerLabel] = owner }, ct);
        foreach (var container in containers)
        {
            await engine.RemoveAsync(container.Id, ct);
        }

        return containers.Count;
    }

    /// <summary>Pulls an image the engine does not have, reporting its progress at most once a second; a pull that fails (no registry, no such image) cannot be retried into success.</summary>
    private async Task PullAsync(string image, Action<string>? progress, CancellationToken ct)
    {
        var last = long.MinValue;
        progress?.Invoke($"pulling {image}");
        try
        {
            await engine.PullAsync(image, p =>
            {
                if (time.GetTimestamp() - last >= time.TimestampFrequency || p.Layer is null)
                {
                    last = time.GetTimestamp();
                    progress?.Invoke($"pulling {image}: {p}");
                }
            }, ct);
        }
        catch (DockerException failed)
        {
            throw new InstanceCannotStartException($"No such image: {image} (pull: {failed.Message})");
        }

        progress?.Invoke($"pulled {image}");
    }

    public async Task<IReadOnlyList<string>> LogsAsync(string instanceId, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            return await engine.LogsAsync(ContainerOf(instanceId), 1000, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return [];
        }
    }

    public async Task<string> ExitOfAsync(string instanceId, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var name = ContainerOf(instanceId);
            var info = await engine.InspectAsync(name, timeout.Token);
            if (info is { State.Running: true })
            {
                // The host saw the first process end before the engine recorded it (its state still says running,
                // exit code 0): wait for the engine's record, which carries the real code.
                await engine.WaitAsync(name, timeout.Token);
                info = await engine.InspectAsync(name, timeout.Token);
            }

            return Describe(info, await engine.LogsAsync(name, 3, timeout.Token));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or DockerException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return "exited";
        }
    }

    public async Task<InstanceUsage?> UsageAsync(string instanceId, CancellationToken ct)
    {
        var stats = await engine.StatsAsync(ContainerOf(instanceId), ct);
        return stats is null ? null : new InstanceUsage(stats.CpuCores, stats.MemoryBytes, stats.MemoryLimit);
    }

    private static string Describe(ContainerInfo? info, IReadOnlyList<string> last)
    {
        var how = info is null ? "gone" : info.OomKilled ? "OOMKilled" : string.Create(CultureInfo.InvariantCulture, $"exited with code {info.ExitCode}");
        return last.Count == 0 ? how : $"{how}; last lines: {string.Join(" | ", last)}";
    }
}
