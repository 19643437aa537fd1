using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Gantry.Core.Rollouts;

namespace Gantry.Api;

/// <summary>
/// The transport of the typed client: sends a call, turns problem+json into an <see cref="ApiCallException"/>
/// with the catalog code, and reads the answer. <see cref="TextFilter"/>, when set, sees every answer's text
/// before it is read (the CLI neutralises terminal control characters there).
/// </summary>
public sealed partial class GantryClient : IDisposable
{
    private readonly HttpClient http;

    public GantryClient(Uri server, string? token, TimeSpan? timeout = null)
    {
        Server = server;
        http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = server,
            Timeout = timeout ?? TimeSpan.FromSeconds(60),
        };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Uri Server { get; }

    public Func<string, string>? TextFilter { get; init; }

    private Task<T> GetAsync<T>(string path, CancellationToken ct) => SendAsync<T>(HttpMethod.Get, path, null, ct);

    private Task<T> PostAsync<T>(string path, object body, CancellationToken ct) => SendAsync<T>(HttpMethod.Post, path, body, ct);

    private Task<T> DeleteAsync<T>(string path, CancellationToken ct) => SendAsync<T>(HttpMethod.Delete, path, null, ct);

    private Task<T> PutAsync<T>(string path, object body, CancellationToken ct) => SendAsync<T>(HttpMethod.Put, path, body, ct);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var response = await CallAsync(method, path, body, HttpCompletionOption.ResponseContentRead, ct);
        return Read<T>(await response.Content.ReadAsStringAsync(ct), path);
    }

    private async Task<string> GetTextAsync(string path, CancellationToken ct)
    {
        using var response = await CallAsync(HttpMethod.Get, path, null, HttpCompletionOption.ResponseContentRead, ct);
        return Filter(await response.Content.ReadAsStringAsync(ct));
    }

    private T Read<T>(string text, string path)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(Filter(text), GantryJson.Options)
                ?? throw new ApiCallException(ApiFailure.Malformed, $"the server answered {path} with nothing");
        }
        catch (JsonException ex)
        {
            throw new ApiCallException(ApiFailure.Malformed, $"the server's answer to {path} is not what the API describes: {ex.Message}", inner: ex);
        }
    }

    private string Filter(string text) => TextFilter is { } filter ? filter(text) : text;

    /// <summary>Sends a call; a success answer is returned open (the caller reads and disposes it), anything else throws.</summary>
    private async Task<HttpResponseMessage> CallAsync(HttpMethod method, string path, object? body, HttpCompletionOption completion, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: GantryJson.Options);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException ex)
        {
            throw new ApiCallException(ApiFailure.Unreachable, ex.InnerException is System.Net.Sockets.SocketException socket
                ? $"cannot reach the gantry server at {Server.ToString().TrimEnd('/')} ({socket.Message})"
                : $"cannot reach the gantry server at {Server}: {ex.Message}", inner: ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new ApiCallException(ApiFailure.TimedOut, $"the server at {Server} did not answer in time", inner: ex);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var problem = ProblemOf(response.StatusCode, Filter(await response.Content.ReadAsStringAsync(ct)));
            throw new ApiCallException(ApiFailure.Refused, problem.Detail, problem);
        }
    }

    /// <summary>The problem an error answer carries; an answer that is not problem+json becomes one by its status.</summary>
    private static Problem ProblemOf(HttpStatusCode status, string body)
    {
        var fallback = ProblemCodes.ForStatus((int)status);
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            string? Text(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return new Problem((int)status, Text("title") ?? fallback.Title, Text("detail") is { Length: > 0 } d ? d : $"{(int)status} {Text("title") ?? fallback.Title}", Text("code") ?? fallback.Code);
        }
        catch (JsonException)
        {
            return fallback.With($"the server answered {(int)status} {status}", (int)status);
        }
    }

    /// <summary>Server-sent events: the stored events (of one rollout, or all), then new ones as they come, until the caller stops.</summary>
    public async IAsyncEnumerable<StoredEvent> EventsAsync(string? rollout, [EnumeratorCancellation] CancellationToken ct)
    {
        using var response = await CallAsync(HttpMethod.Get, ApiRoutes.Fill(ApiRoutes.Events, ("rollout", rollout)), null, HttpCompletionOption.ResponseHeadersRead, ct);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                yield return Read<StoredEvent>(line["data: ".Length..], ApiRoutes.Events);
            }
        }
    }

    /// <summary>A GET whose answer is text or a stream, opened for the caller to read.</summary>
    private async Task<Stream> OpenAsync(string path, CancellationToken ct)
    {
        var response = await CallAsync(HttpMethod.Get, path, null, HttpCompletionOption.ResponseHeadersRead, ct);
        return new ResponseStream(response, await response.Content.ReadAsStreamAsync(ct));
    }

    private async Task<string> TextAsync(string path, CancellationToken ct)
    {
        using var response = await CallAsync(HttpMethod.Get, path, null, HttpCompletionOption.ResponseContentRead, ct);
        return Filter(await response.Content.ReadAsStringAsync(ct));
    }

    public void Dispose() => http.Dispose();
}
