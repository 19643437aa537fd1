using System.Globalization;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gantry.Runtime.Docker;

/// <summary>A container as the engine reports it: its id, name, image, labels and state.</summary>
public sealed record ContainerInfo(string Id, string Name, string Image, IReadOnlyDictionary<string, string> Labels, ContainerState State)
{
    public bool OomKilled => State.OomKilled;

    public int ExitCode => State.ExitCode;

    public int Pid => State.Pid;
}

/// <summary>The state of a container: running or not, the host pid of its first process, how it last ended and when.</summary>
public sealed record ContainerState(string Status, int Pid, int ExitCode, bool OomKilled, string? Error, DateTimeOffset? FinishedAt)
{
    public bool Running => Status == "running";
}

/// <summary>
/// The few calls of the Docker Engine API the runtime needs, over <c>HttpClient</c> on the engine's unix socket
/// (<c>DOCKER_HOST</c>, or /var/run/docker.sock). A missing image or an engine error is an exception with the
/// engine's own message.
/// </summary>
public sealed partial class DockerEngine : IDisposable
{
    private const string Version = "v1.41";
    private readonly HttpClient http;

    public DockerEngine(string host)
    {
        Host = host;
        if (host.StartsWith("unix://", StringComparison.Ordinal))
        {
            var path = host["unix://".Length..];
            http = new HttpClient(new SocketsHttpHandler
            {
                UseProxy = false,
                ConnectCallback = (_, _) =>
                {
                    if (!File.Exists(path))
                    {
                        throw new IOException($"nothing at {path}");
                    }

                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        socket.Connect(new UnixDomainSocketEndPoint(path));
                        return ValueTask.FromResult<Stream>(new NetworkStream(socket, ownsSocket: true));
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            }) { BaseAddress = new Uri("http://docker/") };
        }
        else
        {
            http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri(host.Replace("tcp://", "http://", StringComparison.Ordinal).TrimEnd('/') + "/") };
        }

        http.Timeout = TimeSpan.FromSeconds(60);
    }

    public string Host { get; }

    /// <summary>The engine named by DOCKER_HOST, or the default socket.</summary>
    public static DockerEngine FromEnvironment() => new(Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host ? host : "unix:///var/run/docker.sock");

    /// <summary>The engine's version, or an exception saying why it cannot be reached.</summary>
    public async Task<string> PingAsync(CancellationToken ct)
    {
        var version = await GetJsonAsync("version", ct);
        return version["Version"]?.GetValue<string>() ?? "?";
    }

    /// <summary>Null when the engine answers; otherwise one line saying where it was looked for and why it did not answer.</summary>
    public async Task<string?> UnreachableAsync(CancellationToken ct)
    {
        try
        {
            await PingAsync(ct);
            return null;
        }
        catch (Exception ex) when (IsUnreachable(ex))
        {
            return $"the Docker engine at {Host} cannot be reached ({ex.GetBaseException().Message})";
        }
    }

    /// <summary>Whether <paramref name="ex"/> is the engine not answering (or refusing), rather than a fault of ours.</summary>
    public static bool IsUnreachable(Exception ex) => ex is HttpRequestException or System.Net.Sockets.SocketException or IOException or DockerException;

    /// <summary>Creates a container (its name must be free) and returns its id.</summary>
    public async Task<string> CreateAsync(string name, JsonObject body, CancellationToken ct)
    {
        using var response = await http.PostAsJsonAsync($"{Version}/containers/create?name={Uri.EscapeDataString(name)}", body, ct);
        var answer = await ReadAsync(response, ct);
        return answer["Id"]!.GetValue<string>();
    }

    public async Task StartAsync(string id, CancellationToken ct)
    {
        using var response = await http.PostAsync($"{Version}/containers/{id}/start", null, ct);
        await ReadAsync(response, ct, allow304: true);
    }

    /// <summary>
    /// Removes a container, running or not; nothing when there is none. A removal already under way (the engine answers
    /// 409) is waited for, up to 30 s: either way the container has gone on return, so its name may be used again.
    /// </summary>
    public async Task RemoveAsync(string idOrName, CancellationToken ct)
    {
        using var response = await http.DeleteAsync($"{Version}/containers/{Uri.EscapeDataString(idOrName)}?force=true", ct);
        if (response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (text.Contains("already in progress", StringComparison.Ordinal))
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
                limit.CancelAfter(TimeSpan.FromSeconds(30));
                while (await InspectAsync(idOrName, limit.Token) is not null)
                {
                    await Task.Delay(100, limit.Token);
                }

                return;
            }

            throw new DockerException((int)response.StatusCode, (text.Length > 0 && text[0] == '{' ? JsonNode.Parse(text)?["message"]?.GetValue<string>() : text) ?? "conflict");
        }

        if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
        {
            await ReadAsync(response, ct);
        }
    }

    public async Task<ContainerInfo?> InspectAsync(string idOrName, CancellationToken ct)
    {
        using var response = await http.GetAsync($"{Version}/containers/{Uri.EscapeDataString(idOrName)}/json", ct);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        var c = await ReadAsync(response, ct);
        var state = c["State"]!;
        var labels = c["Config"]?["Labels"]?.AsObject().ToDictionary(p => p.Key, p => p.Value?.GetValue<string>() ?? string.Empty, StringComparer.Ordinal) ?? [];
        var finished = DateTimeOffset.TryParse(state["FinishedAt"]?.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at.Year > 1 ? at : (DateTimeOffset?)null;
        return new ContainerInfo(c["Id"]!.GetValue<string>(), c["Name"]!.GetValue<string>().TrimStart('/'), c["Config"]?["Image"]?.GetValue<string>() ?? string.Empty, labels,
            new ContainerState(state["Status"]!.GetValue<string>(), state["Pid"]!.GetValue<int>(), state["ExitCode"]!.GetValue<int>(), state["OOMKilled"]!.GetValue<bool>(),
                state["Error"]?.GetValue<string>() is { Length: > 0 } e ? e : null, finished));
    }

    /// <summary>The containers (running or not) carrying every one of <paramref name="labels"/>: id, name, image, labels and state (pid 0 and no end time: inspect for those).</summary>
    public async Task<IReadOnlyList<ContainerInfo>> ListAsync(IReadOnlyDictionary<string, string> labels, CancellationToken ct)
    {
        using var response = await http.GetAsync($"{Version}/containers/json?all=true&filters={Filters(new() { ["label"] = LabelFilter(labels) })}", ct);
        var list = (await ReadAsync(response, ct)).AsArray();
        return [.. list.Select(c => new ContainerInfo(
            c!["Id"]!.GetValue<string>(),
            c["Names"]![0]!.GetValue<string>().TrimStart('/'),
            c["Image"]?.GetValue<string>() ?? string.Empty,
            c["Labels"]?.AsObject().ToDictionary(p => p.Key, p => p.Value?.GetValue<string>() ?? string.Empty, StringComparer.Ordinal) ?? [],
            new ContainerState(c["State"]?.GetValue<string>() ?? "unknown", 0, 0, false, null, null)))];
    }

    /// <summary>
    /// Waits until the engine has recorded that a container is not running (its own wait call, condition
    /// not-running); at once for a container already stopped. Inspect it then for how it ended.
    /// </summary>
    public async Task WaitAsync(string idOrName, CancellationToken ct)
    {
        using var response = await http.PostAsync($"{Version}/containers/{Uri.EscapeDataString(idOrName)}/wait?condition=not-running", null, ct);
        await ReadAsync(response, ct);
    }

    /// <summary>The last lines a container wrote (standard output and error, in order).</summary>
    public Task<IReadOnlyList<string>> LogsAsync(string idOrName, int lines, CancellationToken ct) =>
        ReadLogsAsync($"containers/{Uri.EscapeDataString(idOrName)}", lines, ct);

    /// <summary>The last lines a container wrote on one stream: standard output, or standard error when <paramref name="errors"/>.</summary>
    public Task<IReadOnlyList<string>> LogsAsync(string idOrName, int lines, bool errors, CancellationToken ct) =>
        ReadLogsAsync($"containers/{Uri.EscapeDataString(idOrName)}", lines, ct, stdout: !errors, stderr: errors);

    /// <summary>The last lines of a container's or a swarm task's output (<paramref name="resource"/>: containers/ID or tasks/ID); none when the engine cannot say.</summary>
    private async Task<IReadOnlyList<string>> ReadLogsAsync(string resource, int lines, CancellationToken ct, bool stdout = true, bool stderr = true)
    {
        using var response = await http.GetAsync(string.Create(CultureInfo.InvariantCulture, $"{Version}/{resource}/logs?stdout={(stdout ? "true" : "false")}&stderr={(stderr ? "true" : "false")}&tail={lines}"), ct);
        if (!response.IsSuccessStatusCode)
        {
            return [];
        }

        // Without a terminal the stream is multiplexed: an 8-byte header (stream, 0, 0, 0, big-endian length) per frame.
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        var text = new StringBuilder();
        for (var at = 0; at + 8 <= bytes.Length;)
        {
            var length = (bytes[at + 4] << 24) | (bytes[at + 5] << 16) | (bytes[at + 6] << 8) | bytes[at + 7];
            text.Append(Encoding.UTF8.GetString(bytes, at + 8, Math.Min(length, bytes.Length - at - 8)));
            at += 8 + length;
        }

        return [.. text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines)];
    }

    /// <summary>A JSON filter argument of the list calls: each key with its values.</summary>
    private static string Filters(Dictionary<string, string[]> filters) => Uri.EscapeDataString(JsonSerializer.Serialize(filters));

    /// <summary>Each label as KEY=VALUE, or KEY alone (any value) when its value is empty.</summary>
    private static string[] LabelFilter(IReadOnlyDictionary<string, string> labels) => [.. labels.Select(l => l.Value.Length == 0 ? l.Key : $"{l.Key}={l.Value}")];

    private async Task<JsonNode> GetJsonAsync(string path, CancellationToken ct)
    {
        using var response = await http.GetAsync($"{Version}/{path}", ct);
        return await ReadAsync(response, ct);
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, CancellationToken ct, bool allow304 = false)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode && !(allow304 && response.StatusCode == System.Net.HttpStatusCode.NotModified))
        {
            var message = text.Length > 0 && text[0] == '{' ? JsonNode.Parse(text)?["message"]?.GetValue<string>() : text;
            throw new DockerException((int)response.StatusCode, message ?? response.ReasonPhrase ?? "error");
        }

        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    public void Dispose() => http.Dispose();
}

/// <summary>The engine refused a call; <see cref="Exception.Message"/> is its own message (such as "No such image: shop:9").</summary>
public sealed class DockerException(int status, string message) : InvalidOperationException(message)
{
    public int Status { get; } = status;
}
