using System.Globalization;
using System.Text.Json.Nodes;

namespace Gantry.Runtime.Docker;

/// <summary>How a one-shot container ended: its exit code and last lines, or why it could not run or finish (<see cref="Error"/>).</summary>
public sealed record ContainerJobResult(int ExitCode, string Output, string? Error);

/// <summary>
/// A one-shot container (a job at a rollout's hook point): created from the image (pulled when the engine lacks it) on host
/// networking with the given environment, started, waited for up to its timeout, its last lines read, and removed
/// whatever happened.
/// </summary>
public static class ContainerJob
{
    /// <summary>Lines of output read back.</summary>
    public const int Lines = 20;

    /// <summary>The label every job container carries, so that one left by a crash can be found and removed.</summary>
    public const string JobLabel = "org.gantry.job";

    public static async Task<ContainerJobResult> RunAsync(DockerEngine engine, string name, string image, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> env, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        var body = new JsonObject
        {
            ["Image"] = image,
            ["Env"] = new JsonArray([.. env.Select(e => JsonValue.Create($"{e.Key}={e.Value}"))]),
            ["Labels"] = new JsonObject { [JobLabel] = name },
            ["HostConfig"] = new JsonObject { ["NetworkMode"] = "host" },
        };
        if (args.Count > 0)
        {
            body["Cmd"] = new JsonArray([.. args.Select(a => JsonValue.Create(a))]);
        }

        await engine.RemoveAsync(name, ct);
        string id;
        try
        {
            try
            {
                id = await engine.CreateAsync(name, body, ct);
            }
            catch (DockerException missing) when (missing.Status == 404)
            {
                await engine.PullAsync(image, _ => { }, ct);
                id = await engine.CreateAsync(name, body, ct);
            }

            await engine.StartAsync(id, ct);
        }
        catch (DockerException ex)
        {
            await engine.RemoveAsync(name, CancellationToken.None);
            return new ContainerJobResult(-1, string.Empty, $"{image}: cannot start: {ex.Message}");
        }

        try
        {
            var deadline = time.GetUtcNow() + timeout;
            while (true)
            {
                var info = await engine.InspectAsync(id, ct);
                if (info is null)
                {
                    return new ContainerJobResult(-1, string.Empty, $"{image}: the container was removed while it ran");
                }

                if (!info.State.Running && info.State.Status is "exited" or "dead")
                {
                    return new ContainerJobResult(info.ExitCode, await OutputAsync(engine, id, ct), info.OomKilled ? $"{image} was killed for using more memory than its limit" : null);
                }

                if (time.GetUtcNow() >= deadline)
                {
                    return new ContainerJobResult(-1, await OutputAsync(engine, id, ct), string.Create(CultureInfo.InvariantCulture, $"{image} did not finish within {timeout.TotalSeconds} s"));
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), time, ct);
            }
        }
        finally
        {
            await engine.RemoveAsync(id, CancellationToken.None);
        }
    }

    /// <summary>
    /// Standard output, then standard error, as for a command: the engine's log keeps the two streams in the order its
    /// copiers saw them, which is not always the order they were written in, and the error's last line says why.
    /// </summary>
    private static async Task<string> OutputAsync(DockerEngine engine, string id, CancellationToken ct) =>
        string.Join('\n', (await engine.LogsAsync(id, Lines, errors: false, ct)).Concat(await engine.LogsAsync(id, Lines, errors: true, ct)));
}
