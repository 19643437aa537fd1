using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gantry.Core.Manifest;
using Gantry.Runtime.Process;

namespace Gantry.Runtime.Docker;

/// <summary>
/// The Engine API's create body for an instance: image, user, arguments, environment, limits, mounts, stop signal
/// and Gantry's labels. Secret variables are files under /run/secrets (NAME_FILE in the environment names each),
/// never environment variables, so that `docker inspect` never shows them. The configuration label is a hash
/// of everything but the labels: a kept container of the same configuration can be started instead of created.
/// </summary>
public static class ContainerBody
{
    public const string OwnerLabel = "org.gantry.owner";
    public const string ServiceLabel = "org.gantry.service";
    public const string EnvironmentLabel = "org.gantry.environment";
    public const string VersionLabel = "org.gantry.version";
    public const string SetLabel = "org.gantry.set";
    public const string InstanceLabel = "org.gantry.instance";
    public const string IndexLabel = "org.gantry.index";
    public const string PortLabel = "org.gantry.port";
    public const string ConfigurationLabel = "org.gantry.configuration";

    /// <summary>Where secret files appear in the container.</summary>
    public const string SecretsPath = "/run/secrets";

    /// <summary>The user and group containers run as when the manifest names none: nobody.</summary>
    public const string Unprivileged = "65534:65534";

    /// <param name="secretsFolder">The host folder holding this instance's secret files (mounted read-only), when it has secrets.</param>
    public static JsonObject For(InstanceLaunch launch, string owner, string? secretsFolder)
    {
        var docker = (DockerSpec)launch.Spec.Service.Runtime;
        var env = launch.Environment.Select(p => $"{p.Key}={p.Value}")
            .Concat(launch.Secrets.Keys.Order(StringComparer.Ordinal).Select(k => $"{k}_FILE={SecretsPath}/{k}"));
        var host = new JsonObject
        {
            ["NetworkMode"] = "host",
            ["Init"] = false,
            ["ReadonlyRootfs"] = docker.ReadOnly,
        };
        if (docker.MemoryBytes is { } memory)
        {
            host["Memory"] = memory;
            host["MemorySwap"] = memory;
        }

        if (docker.Cpus is { } cpus)
        {
            host["NanoCpus"] = (long)(cpus * 1_000_000_000);
        }

        if (docker.Pids is { } pids)
        {
            host["PidsLimit"] = pids;
        }

        if (docker.ReadOnly)
        {
            host["Tmpfs"] = new JsonObject { ["/tmp"] = "rw,nosuid,nodev,size=64m,mode=1777" };
        }

        var binds = docker.Volumes.Select(v => $"{(v.IsHostPath ? Path.GetFullPath(Path.Combine(launch.Spec.ManifestFolder, v.Source)) : v.Source)}:{v.Target}{(v.ReadOnly ? ":ro" : string.Empty)}").ToList();
        if (secretsFolder is not null)
        {
            binds.Add($"{secretsFolder}:{SecretsPath}:ro");
        }

        if (binds.Count > 0)
        {
            host["Binds"] = new JsonArray([.. binds.Select(b => (JsonNode)JsonValue.Create(b)!)]);
        }

        var body = new JsonObject
        {
            ["Image"] = Placeholders.Expand(docker.Image, launch.Values),
            // Never root, as for processes (decision 0001): on host networking a root container could bind or sniff
            // what the host can. The image's files must be readable by others (its /tmp writable).
            ["User"] = docker.User ?? Unprivileged,
            ["Cmd"] = new JsonArray([.. docker.Args.Select(a => (JsonNode)JsonValue.Create(Placeholders.Expand(a, launch.Values))!)]),
            ["Env"] = new JsonArray([.. env.Select(e => (JsonNode)JsonValue.Create(e)!)]),
            ["StopSignal"] = docker.StopSignal,
            ["StopTimeout"] = (int)Math.Ceiling(docker.StopTimeout.TotalSeconds),
            ["HostConfig"] = host,
        };
        if (docker.Command is { } command)
        {
            body["Entrypoint"] = new JsonArray(JsonValue.Create(Placeholders.Expand(command, launch.Values)));
        }

        var configuration = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body.ToJsonString())))[..16];
        body["Labels"] = new JsonObject
        {
            [OwnerLabel] = owner,
            [ServiceLabel] = launch.Spec.Service.Name,
            [EnvironmentLabel] = launch.Spec.Environment,
            [VersionLabel] = launch.Spec.Version,
            [SetLabel] = launch.Spec.Key,
            [InstanceLabel] = launch.Id,
            [IndexLabel] = launch.Index.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [PortLabel] = launch.Address.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [ConfigurationLabel] = configuration,
        };
        return body;
    }

    /// <summary>The configuration hash a body carries.</summary>
    public static string ConfigurationOf(JsonObject body) => body["Labels"]![ConfigurationLabel]!.GetValue<string>();

    /// <summary>The signal number of a stop signal's name.</summary>
    public static int SignalNumber(string name) => name switch
    {
        "SIGHUP" => 1,
        "SIGINT" => 2,
        "SIGQUIT" => 3,
        "SIGUSR1" => 10,
        "SIGUSR2" => 12,
        "SIGWINCH" => 28,
        _ => 15,
    };
}
