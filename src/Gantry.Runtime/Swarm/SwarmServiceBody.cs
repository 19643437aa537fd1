using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gantry.Core.Manifest;
using Gantry.Core.Runtime;
using Gantry.Runtime.Docker;

namespace Gantry.Runtime.Swarm;

/// <summary>A swarm secret a set's tasks read as /run/secrets/NAME.</summary>
public sealed record SwarmSecretRef(string Name, string Id, string SecretName);

/// <summary>
/// The Engine API's spec of a swarm service for one release set: the container as for docker (never root), host
/// networking, each task on the port of its slot (<see cref="PortTemplate"/>), placement, limits, Gantry's labels and
/// secrets as swarm secrets. The engine's own update and rollback are not used: a set's spec changes only in replicas.
/// </summary>
public static class SwarmServiceBody
{
    public const string PortBaseLabel = "org.gantry.port-base";

    /// <summary>Marks a task's container with its owner under a key of its own: the docker runtime's sweeps (by <see cref="ContainerBody.OwnerLabel"/>) never touch tasks the swarm manages.</summary>
    public const string TaskOwnerLabel = "org.gantry.swarm-owner";

    /// <summary>Ports of one set: its base plus the task's slot, slots 1 to 99.</summary>
    public const int PortsPerSet = 100;

    /// <summary>
    /// What {port} stands for in a set's environment: the engine's template for the base plus the task's slot
    /// (the slot is text there, so it is padded to two digits: base 30100, slot 7, port 30107).
    /// </summary>
    public static string PortTemplate(int portBase) =>
        string.Create(CultureInfo.InvariantCulture, $"{portBase / PortsPerSet}{{{{if lt (len .Task.Slot) 2}}}}0{{{{end}}}}{{{{.Task.Slot}}}}");

    /// <summary>The labels that find a set's service (and its secrets) again.</summary>
    public static Dictionary<string, string> SetLabels(string owner, InstanceSetId set) => new(StringComparer.Ordinal)
    {
        [ContainerBody.OwnerLabel] = owner,
        [ContainerBody.ServiceLabel] = set.Service,
        [ContainerBody.EnvironmentLabel] = set.Environment,
        [ContainerBody.SetLabel] = set.Key,
    };

    private static Dictionary<string, string> TaskLabels(string owner, InstanceSetId set)
    {
        var labels = SetLabels(owner, set);
        labels.Remove(ContainerBody.OwnerLabel);
        labels[TaskOwnerLabel] = owner;
        return labels;
    }

    /// <summary>A service name the engine accepts (letters, digits and '-', at most 63), unique per owner and set.</summary>
    public static string NameOf(string owner, InstanceSetId set)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{owner}/{set.Service}/{set.Environment}/{set.Key}")))[..8];
        var readable = new string([.. $"{set.Service}-{set.Environment}-{set.Key}".Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-')]);
        return $"gantry-{readable[..Math.Min(readable.Length, 45)].Trim('-')}-{hash}";
    }

    /// <param name="environment">The set's environment variables with their placeholders filled in ({port} as the engine's template), secrets apart.</param>
    public static JsonObject For(InstanceSetSpec spec, string owner, int portBase, IReadOnlyDictionary<string, string> environment, IReadOnlyList<SwarmSecretRef> secrets)
    {
        var swarm = (SwarmSpec)spec.Service.Runtime;
        var docker = swarm.Container;
        var values = Values(spec, portBase);
        var env = environment.Select(p => $"{p.Key}={p.Value}").Concat(secrets.Select(s => $"{s.Name}_FILE={ContainerBody.SecretsPath}/{s.Name}"));
        var user = docker.User ?? ContainerBody.Unprivileged;
        var ids = user.Split(':');
        var container = new JsonObject
        {
            ["Image"] = Placeholders.Expand(docker.Image, values),
            ["User"] = user,
            ["Args"] = Strings(docker.Args.Select(a => Placeholders.Expand(a, values))),
            ["Env"] = Strings(env),
            ["StopSignal"] = docker.StopSignal,
            ["StopGracePeriod"] = docker.StopTimeout.Ticks * 100,
            ["ReadOnly"] = docker.ReadOnly,
            ["Init"] = false,
            ["Labels"] = Labels(TaskLabels(owner, spec.SetId)),
            ["Mounts"] = new JsonArray([.. docker.Volumes.Select(v => (JsonNode)new JsonObject { ["Type"] = "volume", ["Source"] = v.Source, ["Target"] = v.Target, ["ReadOnly"] = v.ReadOnly })
                .Concat(docker.ReadOnly ? [new JsonObject { ["Type"] = "tmpfs", ["Target"] = "/tmp", ["TmpfsOptions"] = new JsonObject { ["SizeBytes"] = 64L << 20, ["Mode"] = 1023 } }] : [])]),
            ["Secrets"] = new JsonArray([.. secrets.Select(s => (JsonNode)new JsonObject
            {
                ["SecretID"] = s.Id,
                ["SecretName"] = s.SecretName,
                ["File"] = new JsonObject
                {
                    ["Name"] = s.Name,
                    ["UID"] = ids[0].All(char.IsAsciiDigit) ? ids[0] : "0",
                    ["GID"] = ids.Length > 1 && ids[1].All(char.IsAsciiDigit) ? ids[1] : "0",
                    // Readable by its owner only when the user is a number; a named user's uid is known only in the image.
                    ["Mode"] = ids[0].All(char.IsAsciiDigit) ? 256 : 292,
                },
            })]),
        };
        if (docker.Command is { } command)
        {
            container["Command"] = Strings([Placeholders.Expand(command, values)]);
        }

        var limits = new JsonObject();
        if (docker.MemoryBytes is { } memory)
        {
            limits["MemoryBytes"] = memory;
        }

        if (docker.Cpus is { } cpus)
        {
            limits["NanoCPUs"] = (long)(cpus * 1_000_000_000);
        }

        if (docker.Pids is { } pids)
        {
            limits["Pids"] = pids;
        }

        var placement = new JsonObject
        {
            ["Constraints"] = Strings(swarm.Placement.Constraints),
            ["Preferences"] = new JsonArray([.. swarm.Placement.Spread.Select(label => (JsonNode)new JsonObject { ["Spread"] = new JsonObject { ["SpreadDescriptor"] = label } })]),
        };
        if (swarm.Placement.MaxPerNode is { } most)
        {
            placement["MaxReplicas"] = most;
        }

        var labels = SetLabels(owner, spec.SetId);
        labels[ContainerBody.VersionLabel] = spec.Version;
        labels[PortBaseLabel] = portBase.ToString(CultureInfo.InvariantCulture);
        var body = new JsonObject
        {
            ["Name"] = NameOf(owner, spec.SetId),
            ["TaskTemplate"] = new JsonObject
            {
                ["ContainerSpec"] = container,
                ["Resources"] = new JsonObject { ["Limits"] = limits },
                // The engine restarts a task that ends; Gantry counts the restarts and judges the release by them.
                ["RestartPolicy"] = new JsonObject { ["Condition"] = "any", ["Delay"] = 1_000_000_000L, ["MaxAttempts"] = 0 },
                ["Placement"] = placement,
                ["Networks"] = new JsonArray(new JsonObject { ["Target"] = "host" }),
            },
        };
        // Everything but the replicas, for an operator comparing two sets' services.
        labels[ContainerBody.ConfigurationLabel] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body.ToJsonString())))[..16];
        body["Labels"] = Labels(labels);
        body["Mode"] = new JsonObject { ["Replicated"] = new JsonObject { ["Replicas"] = spec.Replicas } };
        return body;
    }

    /// <summary>What the placeholders of a set's texts stand for: {port} and {instance} are the engine's templates, filled in per task.</summary>
    public static Dictionary<string, string> Values(InstanceSetSpec spec, int portBase) => new(StringComparer.Ordinal)
    {
        ["version"] = spec.Version,
        ["port"] = PortTemplate(portBase),
        ["service"] = spec.Service.Name,
        ["environment"] = spec.Environment,
        ["instance"] = "{{.Task.Name}}",
    };

    private static JsonArray Strings(IEnumerable<string> items) => new([.. items.Select(i => (JsonNode)JsonValue.Create(i)!)]);

    private static JsonObject Labels(Dictionary<string, string> labels) => new([.. labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))]);
}
