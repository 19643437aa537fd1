using System.Collections.Immutable;

namespace Gantry.Core.Manifest;

/// <summary>Reading a service's docker section: image, arguments, environment, limits, mounts, user, retained releases.</summary>
internal sealed partial class ManifestReader
{
    private DockerSpec? ReadDocker(MapReader m)
    {
        var image = m.String("image");
        if (image is not null)
        {
            CheckPlaceholders(m.Lookup("image")!.Value, Placeholders.Process, "'image'");
        }

        if (m.String("command") is not null)
        {
            CheckPlaceholders(m.Lookup("command")!.Value, Placeholders.Process, "'command'");
        }

        var args = ReadArgs(m);
        var env = ReadStringMap(m, "env", "environment variable", Placeholders.Process);
        var stopTimeout = Positive(m, "stopTimeout") ?? ProcessSpec.DefaultStopTimeout;
        var memory = m.Int("memory") is { } mib ? mib * 1024L * 1024L : (long?)null;
        if (image is not null && m.Shape == Schema.ManifestShapes.Docker && !Mentions(m.Node, "{port}"))
        {
            ctx.Warning(m.Node.Start, "the container is never told its port: pass {port} in 'args' or 'env' (for example --urls http://127.0.0.1:{port})");
        }

        var user = m.String("user");
        if (user is not null && (user.Split(':')[0] is "root" or "0" || user.Length == 0 || !user.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':')))
        {
            ctx.Error(m.PositionOf("user"), user.Split(':')[0] is "root" or "0"
                ? "'user' may not be root: containers share the host's network and never run with its privileges"
                : $"'user' must be UID[:GID] or a user name, got '{user}'");
        }

        var retain = m.Shape.Find("retain") is not null && m.Object("retain", "retained releases") is { } r && r.Int("releases") is { } releases
            ? new RetainSpec(releases, Positive(r, "for") ?? RetainSpec.DefaultFor, r.Bool("warm") ?? false)
            : null;
        return image is null ? null : new DockerSpec(image, args, env, stopTimeout, memory, m.Number("cpus"))
        {
            Command = m.String("command"),
            Pids = m.Int("pids"),
            Volumes = ReadVolumes(m),
            ReadOnly = m.Bool("readOnly") ?? false,
            User = user,
            StopSignal = m.String("stopSignal") ?? "SIGTERM",
            Retain = retain,
        };
    }

    /// <summary>
    /// Reading a service's swarm section: the docker keys but retain, and placement. {port} differs per task, so the
    /// engine fills it in: it may appear in the environment only (the engine expands templates there, not in arguments).
    /// </summary>
    private SwarmSpec? ReadSwarm(MapReader m)
    {
        var container = ReadDocker(m);
        m.List("args", (node, i, _) =>
        {
            if (Mentions(node, "{port}"))
            {
                ctx.Error(node.Start, $"item {i + 1} of 'args' uses {{port}}, which differs per task of a swarm service: give it in 'env' (for example ASPNETCORE_URLS: http://0.0.0.0:{{port}})");
            }

            return (string?)null;
        });
        if (container is not null && !(m.Lookup("env") is { } env && Mentions(env.Value, "{port}")))
        {
            ctx.Warning(m.Node.Start, "the tasks are never told their port: give {port} in 'env' (for example ASPNETCORE_URLS: http://0.0.0.0:{port})");
        }

        foreach (var host in container?.Volumes.Where(v => v.IsHostPath) ?? [])
        {
            ctx.Error(m.PositionOf("volumes"), $"volume '{host.Source}:{host.Target}' is a host path, which differs between the swarm's nodes: use a named volume");
        }

        var placement = m.Object("placement", "placement") is { } p
            ? new SwarmPlacement(p.ScalarList<string>("constraints"), p.ScalarList<string>("spread"), p.Int("maxPerNode"))
            : SwarmPlacement.None;
        foreach (var constraint in placement.Constraints.Where(c => !c.Contains("==", StringComparison.Ordinal) && !c.Contains("!=", StringComparison.Ordinal)))
        {
            ctx.Error(m.PositionOf("placement"), $"constraint '{constraint}' must compare with == or != (for example node.labels.zone==a)");
        }

        return container is null ? null : new SwarmSpec(container, placement);
    }

    /// <summary>The runtime section of a service or an environment's override: process, docker or swarm, whichever is given.</summary>
    private RuntimeSpec? ReadRuntimeSection(MapReader m, string what) =>
        m.Object("process", $"process of {what}") is { } p ? ReadProcess(p)
        : m.Object("docker", $"docker of {what}") is { } d ? ReadDocker(d)
        : m.Object("swarm", $"swarm of {what}") is { } s ? ReadSwarm(s)
        : null;

    /// <summary>Which runtime sections a mapping gives.</summary>
    private static List<string> RuntimeKeysOf(MapReader m) => [.. RuntimeKeys.Where(m.Has)];

    private static readonly string[] RuntimeKeys = ["process", "docker", "swarm"];

    /// <summary>Mounts written as SOURCE:/TARGET[:ro], the source a host path or a volume's name.</summary>
    private ImmutableArray<VolumeMount> ReadVolumes(MapReader m) => m.List("volumes", (node, i, _) =>
    {
        if (ctx.ReadScalar(new Schema.StringType(), node, $"item {i + 1} of 'volumes'") is not string text)
        {
            return null;
        }

        var parts = text.Split(':');
        var readOnly = parts.Length == 3 && parts[2] == "ro";
        if (parts.Length is < 2 or > 3 || (parts.Length == 3 && parts[2] is not ("ro" or "rw")) || parts[0].Length == 0 || !parts[1].StartsWith('/'))
        {
            ctx.Error(node.Start, $"volume '{text}' must be SOURCE:/TARGET or SOURCE:/TARGET:ro (SOURCE a path or a volume's name, TARGET absolute in the container)");
            return null;
        }

        var mount = new VolumeMount(parts[0], parts[1], readOnly);
        if (!mount.IsHostPath && !parts[0].All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            ctx.Error(node.Start, $"volume source '{parts[0]}' must be a path (starting with / or .) or a volume's name (letters, digits, '_', '-', '.')");
            return null;
        }

        return mount;
    });
}
