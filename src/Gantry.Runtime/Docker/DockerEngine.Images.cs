using System.Globalization;
using System.Text.Json.Nodes;

namespace Gantry.Runtime.Docker;

/// <summary>A pull's progress as the engine reports it: a status line per layer, with bytes done of the total when it knows them.</summary>
public sealed record PullProgress(string Status, string? Layer, long? Current, long? Total)
{
    public override string ToString() => Layer is null ? Status
        : Total is > 0 ? string.Create(CultureInfo.InvariantCulture, $"{Layer}: {Status} {Current * 100 / Total}%")
        : $"{Layer}: {Status}";
}

/// <summary>One reading of a container's resources: CPU used (in cores, averaged since the engine's previous reading) and memory in use.</summary>
public sealed record ContainerStats(double CpuCores, long MemoryBytes, long? MemoryLimit);

/// <summary>Images (present, pulled, removed) and resource readings.</summary>
public sealed partial class DockerEngine
{
    /// <summary>Pulls <paramref name="image"/> from its registry, reporting each progress line; throws with the engine's message when the pull fails.</summary>
    public async Task PullAsync(string image, Action<PullProgress> progress, CancellationToken ct)
    {
        var (name, tag) = Split(image);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Version}/images/create?fromImage={Uri.EscapeDataString(name)}&tag={Uri.EscapeDataString(tag)}");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
        {
            await ReadAsync(response, ct);
        }

        // A stream of JSON objects, one per line: {status, id, progressDetail: {current, total}} or {error}.
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0 || JsonNode.Parse(line) is not JsonObject o)
            {
                continue;
            }

            if (o["error"]?.GetValue<string>() is { } error)
            {
                throw new DockerException(500, error);
            }

            var detail = o["progressDetail"];
            progress(new PullProgress(o["status"]?.GetValue<string>() ?? string.Empty, o["id"]?.GetValue<string>(), detail?["current"]?.GetValue<long>(), detail?["total"]?.GetValue<long>()));
        }
    }

    /// <summary>Gives <paramref name="image"/> another name (<paramref name="as"/>, REPOSITORY:TAG).</summary>
    public async Task TagAsync(string image, string @as, CancellationToken ct)
    {
        var (repository, tag) = Split(@as);
        using var response = await http.PostAsync($"{Version}/images/{Uri.EscapeDataString(image)}/tag?repo={Uri.EscapeDataString(repository)}&tag={Uri.EscapeDataString(tag)}", null, ct);
        await ReadAsync(response, ct);
    }

    /// <summary>Removes an image (a tag of it) unless a container, running or stopped, still uses it: true when removed.</summary>
    public async Task<bool> RemoveImageAsync(string image, CancellationToken ct)
    {
        using var response = await http.DeleteAsync($"{Version}/images/{Uri.EscapeDataString(image)}", ct);
        if (response.StatusCode is System.Net.HttpStatusCode.Conflict or System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }

        await ReadAsync(response, ct);
        return true;
    }

    /// <summary>
    /// One reading of a running container's CPU and memory. The engine answers with this reading and the one
    /// before it (about a second apart), so the CPU is what was used between them, in cores.
    /// </summary>
    public async Task<ContainerStats?> StatsAsync(string idOrName, CancellationToken ct)
    {
        using var response = await http.GetAsync($"{Version}/containers/{Uri.EscapeDataString(idOrName)}/stats?stream=false", ct);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        var s = await ReadAsync(response, ct);
        double Total(string which) => s[which]?["cpu_usage"]?["total_usage"]?.GetValue<double>() ?? 0;
        double SystemCpu(string which) => s[which]?["system_cpu_usage"]?.GetValue<double>() ?? 0;
        var online = s["cpu_stats"]?["online_cpus"]?.GetValue<int>() ?? Environment.ProcessorCount;
        var systemDelta = SystemCpu("cpu_stats") - SystemCpu("precpu_stats");
        var cpu = systemDelta > 0 ? (Total("cpu_stats") - Total("precpu_stats")) / systemDelta * online : 0;
        var memory = s["memory_stats"];
        // As the docker CLI shows it: usage less the page cache the kernel can drop (inactive_file on cgroup v2, cache on v1).
        var used = (memory?["usage"]?.GetValue<long>() ?? 0) - (memory?["stats"]?["inactive_file"]?.GetValue<long>() ?? memory?["stats"]?["cache"]?.GetValue<long>() ?? 0);
        var limit = memory?["limit"]?.GetValue<long>();
        return new ContainerStats(Math.Max(0, cpu), Math.Max(0, used), limit);
    }

    /// <summary>An image reference's repository and tag (latest when none; a digest is kept whole).</summary>
    public static (string Name, string Tag) Split(string image)
    {
        if (image.Contains('@', StringComparison.Ordinal))
        {
            return (image, string.Empty);
        }

        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }
}
