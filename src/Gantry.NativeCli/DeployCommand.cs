using System.Net;
using System.Text.Json;
using Gantry.Api;
using Gantry.Client;

namespace Gantry.NativeCli;

/// <summary>
/// <c>gantry deploy SERVICE --version V</c> without <c>--wait</c>: posts the deploy and says what it led to, as the full
/// program says it. A <c>--set</c> or <c>--secret</c> the full program would refuse is left to it, to say why.
/// </summary>
internal sealed record DeployCommand(
    string Service, string Version, string? Environment, IReadOnlyDictionary<string, string> Variables, IReadOnlyList<string> Secrets,
    bool Queue, bool Emergency, string? Reason, bool Json, string? Server, string? Data) : FastCommand(Server, Data)
{
    public static DeployCommand? Parse(ReadOnlySpan<string> args)
    {
        var line = CommandLine.Read(args, [
            .. Connection,
            new(OptionKind.Value, "--version", "-v"), new(OptionKind.Value, "--env", "-e"), new(OptionKind.Repeated, "--set"),
            new(OptionKind.Repeated, "--secret"), new(OptionKind.Flag, "--queue"), new(OptionKind.Flag, "--emergency"),
            new(OptionKind.Value, "--reason", "-m"), new(OptionKind.Value, "--output", "-o")]);
        if (line?.Value("--version") is not { } version || IsJson(line.Value("--output")) is not { } json)
        {
            return null;
        }

        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in line.Values("--set"))
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            if (at <= 0)
            {
                return null;
            }

            variables[pair[..at]] = pair[(at + 1)..];
        }

        var secrets = new List<string>();
        foreach (var pair in line.Values("--secret"))
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            var key = at < 0 ? pair : pair[..at];
            if ((at < 0 ? System.Environment.GetEnvironmentVariable(key) : pair[(at + 1)..]) is not { } value || key.Length == 0)
            {
                return null;
            }

            variables[key] = value;
            secrets.Add(key);
        }

        return new DeployCommand(line.Argument, version, line.Value("--env"), variables, secrets, line.Has("--queue"), line.Has("--emergency"),
            line.Value("--reason"), json, line.Value("--server"), line.Value("--data"));
    }

    public override async Task<int> RunAsync(ApiCall api, TextWriter output, CancellationToken ct)
    {
        var path = ApiRoutes.Fill(ApiRoutes.Rollouts);
        var (status, text) = await api.SendAsync(HttpMethod.Post, path, Body(), ct);
        string shown;
        try
        {
            using var answer = JsonDocument.Parse(text);
            shown = Json ? JsonText.Indent(text)
                : status == (int)HttpStatusCode.Accepted ? DeployText.Queued(answer.RootElement)
                : DeployText.Started(answer.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ApiException(ExitCodes.Failed, $"the server's answer to {path} is not what the API describes: {ex.Message}");
        }

        await output.WriteLineAsync(shown);
        return ExitCodes.Success;
    }

    /// <summary>The deploy request in JSON, with the names and values the full program's typed request has.</summary>
    private byte[] Body()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("service", Service);
            json.WriteString("version", Version);
            json.WriteString("environment", Environment);
            json.WriteStartObject("set");
            foreach (var (key, value) in Variables)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            json.WriteNull("commitSha");
            json.WriteNull("commitTime");
            json.WriteBoolean("queue", Queue);
            json.WriteBoolean("emergency", Emergency);
            json.WriteString("reason", Reason);
            json.WriteStartArray("secret");
            foreach (var key in Secrets)
            {
                json.WriteStringValue(key);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
