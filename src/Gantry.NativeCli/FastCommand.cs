using Gantry.Api;

namespace Gantry.NativeCli;

/// <summary>A command line this client answers itself; <see cref="Parse"/> gives null for every other.</summary>
internal abstract record FastCommand(string? Server, string? Data)
{
    /// <summary>The options of every command that talks to a server.</summary>
    protected static readonly OptionSpec[] Connection = [new(OptionKind.Value, "--server"), new(OptionKind.Value, "--data")];

    public static FastCommand? Parse(string[] args) => args switch
    {
        ["status", .. var rest] => StatusJson.Parse(rest),
        ["deploy", .. var rest] => DeployCommand.Parse(rest),
        _ => null,
    };

    /// <summary>Text or JSON, as <c>--output</c> names them; null for anything else (the full program reads it).</summary>
    protected static bool? IsJson(string? output) =>
        output is null || output.Equals("text", StringComparison.OrdinalIgnoreCase) ? false
        : output.Equals("json", StringComparison.OrdinalIgnoreCase) ? true
        : null;

    public abstract Task<int> RunAsync(ApiCall api, TextWriter output, CancellationToken ct);
}

/// <summary><c>gantry status SERVICE --output json</c>: the service's newest rollout as the server wrote it, indented.</summary>
internal sealed record StatusJson(string Service, string? Environment, string? Server, string? Data) : FastCommand(Server, Data)
{
    public static StatusJson? Parse(ReadOnlySpan<string> args) =>
        CommandLine.Read(args, [.. Connection, new(OptionKind.Value, "--env", "-e"), new(OptionKind.Value, "--output", "-o")]) is { } line
            && IsJson(line.Value("--output")) == true
            ? new StatusJson(line.Argument, line.Value("--env"), line.Value("--server"), line.Value("--data"))
            : null;

    public override async Task<int> RunAsync(ApiCall api, TextWriter output, CancellationToken ct)
    {
        var (_, text) = await api.SendAsync(HttpMethod.Get, ApiRoutes.Fill(ApiRoutes.ServiceRollout, [Service], ("environment", Environment)), null, ct);
        await output.WriteLineAsync(Gantry.Client.JsonText.Indent(text));
        return ExitCodes.Success;
    }
}
