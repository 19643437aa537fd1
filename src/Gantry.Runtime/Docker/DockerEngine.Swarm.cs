using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Gantry.Runtime.Docker;

/// <summary>A node of the swarm: its id, host name, the address its tasks are reached at, its state (ready, down) and availability (active, pause, drain).</summary>
public sealed record SwarmNode(string Id, string Hostname, string Address, string State, string Availability)
{
    public bool Up => State == "ready";
}

/// <summary>A service of the swarm as the engine reports it: its id, name, version (for updates), labels and replicas, with its whole spec.</summary>
public sealed record SwarmService(string Id, string Name, long Version, IReadOnlyDictionary<string, string> Labels, int Replicas, JsonObject Spec);

/// <summary>A task of a swarm service: its slot, node, the state it should be in and the state it is in, with the engine's error.</summary>
public sealed record SwarmTask(string Id, string ServiceId, int Slot, string NodeId, string DesiredState, string State, string? Error, DateTimeOffset Timestamp);

/// <summary>The calls of a swarm manager's Engine API: services, their tasks, nodes and secrets.</summary>
public sealed partial class DockerEngine
{
    /// <summary>Whether this engine is a manager of a swarm (it can create services); the reason when not.</summary>
    public async Task<string?> NotAManagerAsync(CancellationToken ct)
    {
        var info = await GetJsonAsync("info", ct);
        var swarm = info["Swarm"];
        return swarm?["LocalNodeState"]?.GetValue<string>() != "active" ? $"the Docker engine at {Host} is not part of a swarm (docker swarm init)"
            : swarm["ControlAvailable"]?.GetValue<bool>() != true ? $"the Docker engine at {Host} is a worker of its swarm: DOCKER_HOST must name a manager"
            : null;
    }

    public async Task<string> CreateServiceAsync(JsonObject spec, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync($"{Version}/services/create", spec, ct);
        return (await ReadAsync(response, ct))["ID"]!.GetValue<string>();
    }

    /// <summary>Replaces a service's spec; <paramref name="version"/> is the one it was read at (a stale one is refused by the engine).</summary>
    public async Task UpdateServiceAsync(string id, long version, JsonObject spec, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync(string.Create(CultureInfo.InvariantCulture, $"{Version}/services/{id}/update?version={version}"), spec, ct);
        await ReadAsync(response, ct);
    }

    /// <summary>Removes a service (its tasks are stopped with its stop signal and grace period); nothing when there is none.</summary>
    public async Task RemoveServiceAsync(string id, CancellationToken ct)
    {
        using var response = await http.DeleteAsync($"{Version}/services/{id}", ct);
        if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
        {
            await ReadAsync(response, ct);
        }
    }

    /// <summary>The services carrying every one of <paramref name="labels"/>.</summary>
    public async Task<IReadOnlyList<SwarmService>> ServicesAsync(IReadOnlyDictionary<string, string> labels, CancellationToken ct)
    {
        var list = (await GetJsonAsync($"services?filters={Filters(new() { ["label"] = LabelFilter(labels) })}", ct)).AsArray();
        return [.. list.Select(s =>
        {
            var spec = s!["Spec"]!.AsObject();
            return new SwarmService(
                s["ID"]!.GetValue<string>(),
                spec["Name"]!.GetValue<string>(),
                s["Version"]!["Index"]!.GetValue<long>(),
                LabelsOf(spec["Labels"]),
                spec["Mode"]?["Replicated"]?["Replicas"]?.GetValue<int>() ?? 0,
                spec);
        })];
    }

    /// <summary>Every task of a service the manager still knows, current and past (the engine keeps a few per slot).</summary>
    public async Task<IReadOnlyList<SwarmTask>> TasksAsync(string serviceId, CancellationToken ct)
    {
        var list = (await GetJsonAsync($"tasks?filters={Filters(new() { ["service"] = [serviceId] })}", ct)).AsArray();
        return [.. list.Select(t => new SwarmTask(
            t!["ID"]!.GetValue<string>(),
            t["ServiceID"]!.GetValue<string>(),
            t["Slot"]?.GetValue<int>() ?? 0,
            t["NodeID"]?.GetValue<string>() ?? string.Empty,
            t["DesiredState"]?.GetValue<string>() ?? string.Empty,
            t["Status"]?["State"]?.GetValue<string>() ?? string.Empty,
            t["Status"]?["Err"]?.GetValue<string>() is { Length: > 0 } error ? error : null,
            DateTimeOffset.TryParse(t["Status"]?["Timestamp"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.MinValue))];
    }

    /// <summary>The swarm's nodes. A manager may report its address as 0.0.0.0: then the address it manages from is given.</summary>
    public async Task<IReadOnlyList<SwarmNode>> NodesAsync(CancellationToken ct)
    {
        var list = (await GetJsonAsync("nodes", ct)).AsArray();
        return [.. list.Select(n =>
        {
            var address = n!["Status"]?["Addr"]?.GetValue<string>() ?? string.Empty;
            if (address is "" or "0.0.0.0" && n["ManagerStatus"]?["Addr"]?.GetValue<string>() is { } managed)
            {
                address = managed[..managed.LastIndexOf(':')];
            }

            return new SwarmNode(n["ID"]!.GetValue<string>(), n["Description"]?["Hostname"]?.GetValue<string>() ?? string.Empty, address,
                n["Status"]?["State"]?.GetValue<string>() ?? "unknown", n["Spec"]?["Availability"]?.GetValue<string>() ?? "active");
        })];
    }

    /// <summary>The last lines a task wrote; none when its node cannot be asked.</summary>
    public Task<IReadOnlyList<string>> TaskLogsAsync(string taskId, int lines, CancellationToken ct) =>
        ReadLogsAsync($"tasks/{Uri.EscapeDataString(taskId)}", lines, ct);

    /// <summary>Creates a secret (the swarm keeps it encrypted and gives it to tasks as a file) and returns its id; one of the same name is reused.</summary>
    public async Task<string> CreateSecretAsync(string name, IReadOnlyDictionary<string, string> labels, byte[] data, CancellationToken ct)
    {
        var body = new JsonObject { ["Name"] = name, ["Data"] = Convert.ToBase64String(data), ["Labels"] = new JsonObject([.. labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))]) };
        using var response = await http.PostAsJsonAsync($"{Version}/secrets/create", body, ct);
        if (response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            var found = (await GetJsonAsync($"secrets?filters={Filters(new() { ["name"] = [name] })}", ct)).AsArray();
            return found.First(s => s!["Spec"]!["Name"]!.GetValue<string>() == name)!["ID"]!.GetValue<string>();
        }

        return (await ReadAsync(response, ct))["ID"]!.GetValue<string>();
    }

    /// <summary>Removes the secrets carrying every one of <paramref name="labels"/> that no service uses any more; returns how many are left.</summary>
    public async Task<int> RemoveSecretsAsync(IReadOnlyDictionary<string, string> labels, CancellationToken ct)
    {
        var left = 0;
        foreach (var secret in (await GetJsonAsync($"secrets?filters={Filters(new() { ["label"] = LabelFilter(labels) })}", ct)).AsArray())
        {
            using var response = await http.DeleteAsync($"{Version}/secrets/{secret!["ID"]!.GetValue<string>()}", ct);
            if (!response.IsSuccessStatusCode && response.StatusCode != System.Net.HttpStatusCode.NotFound)
            {
                left++;
            }
        }

        return left;
    }

    private static Dictionary<string, string> LabelsOf(JsonNode? labels) =>
        labels?.AsObject().ToDictionary(p => p.Key, p => p.Value?.GetValue<string>() ?? string.Empty, StringComparer.Ordinal) ?? [];
}
