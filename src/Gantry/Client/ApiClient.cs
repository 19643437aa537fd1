using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Gantry.Core.Rollouts;

namespace Gantry.Client;

/// <summary>Why a call to the server did not give what was asked; carries the exit code to use.</summary>
internal sealed class ApiException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>The CLI's side of the REST API: finds the server, sends who is asking, turns problem+json into one readable line.</summary>
internal sealed class ApiClient : IDisposable
{
    public const string ServerVariable = "GANTRY_SERVER";

    private readonly HttpClient http;

    public ApiClient(Uri server, string? token, TimeSpan? timeout = null)
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

    /// <summary>A client with the server and token the command line, the environment and the config file give.</summary>
    public static ApiClient Connect(string? serverOption, string? dataOption)
    {
        var credentials = Credentials.Resolve(dataOption);
        return new ApiClient(Resolve(serverOption, credentials.Server), credentials.Token);
    }

    /// <summary>--server, else GANTRY_SERVER, else the config file's server, else the default local address.</summary>
    public static Uri Resolve(string? option, string? configured = null)
    {
        var text = option ?? Environment.GetEnvironmentVariable(ServerVariable) ?? configured ?? $"http://{Gantry.Server.ServerOptions.DefaultListen}";
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ApiException(ExitCodes.BadInput, $"'{text}' is not a server address (for example http://127.0.0.1:7700)");
    }

    public Task<T> GetAsync<T>(string path, CancellationToken ct) => SendAsync<T>(HttpMethod.Get, path, null, ct);

    /// <summary>A GET whose answer is text (Markdown, say), not JSON.</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken ct)
    {
        using var response = await OpenStreamAsync(path, ct);
        return await response.Content.ReadAsStringAsync(ct);
    }

    public Task<T> PostAsync<T>(string path, object body, CancellationToken ct) => SendAsync<T>(HttpMethod.Post, path, body, ct);

    public Task<T> DeleteAsync<T>(string path, CancellationToken ct) => SendAsync<T>(HttpMethod.Delete, path, null, ct);

    public async Task<HttpResponseMessage> OpenStreamAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        try
        {
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode)
            {
                using (response)
                {
                    var text = await response.Content.ReadAsStringAsync(ct);
                    throw new ApiException(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests ? ExitCodes.Denied : ExitCodes.BadInput, ProblemText(response.StatusCode, text));
                }
            }

            return response;
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(ex);
        }
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: GantryJson.Options);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(ex);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ApiException(ExitCodes.Unreachable, $"the server at {Server} did not answer in time");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                throw new ApiException(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.TooManyRequests ? ExitCodes.Denied : ExitCodes.BadInput, ProblemText(response.StatusCode, text));
            }

            return JsonSerializer.Deserialize<T>(TerminalText.EscapeJson(text), GantryJson.Options)
                ?? throw new ApiException(ExitCodes.Failed, $"the server answered {path} with nothing");
        }
    }

    private ApiException Unreachable(HttpRequestException ex) =>
        new(ExitCodes.Unreachable, ex.InnerException is SocketException
            ? $"cannot reach the gantry server at {Server.ToString().TrimEnd('/')} ({ex.InnerException.Message}); start it with 'gantry server', or point --server / {ServerVariable} at it"
            : $"cannot reach the gantry server at {Server}: {ex.Message}");

    private static string ProblemText(HttpStatusCode status, string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 0 } text)
            {
                return TerminalText.Escape(text);
            }

            if (doc.RootElement.TryGetProperty("title", out var title))
            {
                return $"{(int)status} {title.GetString()}";
            }
        }
        catch (JsonException)
        {
            // Not problem+json.
        }

        return $"the server answered {(int)status} {status}";
    }

    public void Dispose() => http.Dispose();
}
