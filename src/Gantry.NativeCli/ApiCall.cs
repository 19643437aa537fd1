using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Gantry.Client;

namespace Gantry.NativeCli;

/// <summary>The call is better made by the full program: nothing reached the server, or its answer is not one this client reads.</summary>
internal sealed class NotAnsweredHereException(string why) : Exception(why);

/// <summary>A call to the REST API as the full program's client makes it (same timeouts, token, and filter of terminal control characters), without its types.</summary>
internal sealed class ApiCall : IDisposable
{
    private readonly HttpClient http;

    public ApiCall(Uri server, string? token)
    {
        Server = server;
        http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = server,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Uri Server { get; }

    /// <summary>
    /// Sends a call and returns a success's status and text. A server that could not be reached is not an error here
    /// (<see cref="NotAnsweredHereException"/>: nothing was sent, the full program tries and says why); a problem the
    /// server answered is an <see cref="ApiException"/> worded as the full program words it.
    /// </summary>
    public async Task<(int Status, string Text)> SendAsync(HttpMethod method, string path, byte[]? json, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException)
        {
            throw new NotAnsweredHereException($"no connection to {Server}: {ex.Message}");
        }
        catch (HttpRequestException ex)
        {
            throw ApiException.Unreachable($"cannot reach the gantry server at {Server}: {ex.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ApiException(ExitCodes.Unreachable, $"the server at {Server} did not answer in time");
        }

        using (response)
        {
            var text = TerminalText.EscapeJson(await response.Content.ReadAsStringAsync(ct));
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return (status, text);
            }

            if (ProblemOf(text) is var (detail, code))
            {
                throw ApiException.Refused(status, detail, code);
            }

            // Not an answer of the API (a proxy's page, say): a read is made again by the full program, which words it
            // with the catalog; a deploy is not sent twice.
            throw method == HttpMethod.Get
                ? new NotAnsweredHereException($"the server answered {status} without a problem the API describes")
                : new ApiException(ExitCodes.Failed, $"the server answered {status} {response.ReasonPhrase} to {path}, not with a problem the API describes");
        }
    }

    /// <summary>The detail and catalog code of a problem+json answer; null for anything else.</summary>
    private static (string Detail, string Code)? ProblemOf(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String && detail.GetString() is { Length: > 0 } d
                && root.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
                ? (d, code.GetString()!)
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => http.Dispose();
}
