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
        if (image is not null && !Mentions(m.Node, "{port}"))
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

        var retain = m.Object("retain", "retained releases") is { } r && r.Int("releases") is { } releases
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
