using System.Diagnostics;
using System.Globalization;
using Gantry.Core.Manifest;

namespace Gantry.Runtime.Process;

/// <summary>Starting the instance's process: its command, arguments and environment with placeholders filled in, as its user, with its output kept.</summary>
internal sealed partial class ManagedInstance
{
    private async Task<InstanceProcess> StartProcessAsync(CancellationToken ct)
    {
        var values = PlaceholderValues();
        var p = (ProcessSpec)spec.Service.Runtime;
        var workingDirectory = Path.GetFullPath(Path.Combine(spec.ManifestFolder, Placeholders.Expand(p.WorkingDir ?? ".", values)));
        if (options.Isolation.Refusal(workingDirectory) is { } refused)
        {
            throw new InvalidOperationException(refused);
        }

        // A root server never runs an instance as root: the service's runAs user, or the dedicated one.
        var runAs = InstanceIsolation.IsRoot ? p.RunAs ?? options.Isolation.DefaultUser : null;
        if (p.RunAs is not null && !InstanceIsolation.IsRoot && p.RunAs != Environment.UserName)
        {
            throw new InvalidOperationException($"runAs {p.RunAs}: the server runs as {Environment.UserName}, not root, so it cannot start instances as another user");
        }

        var user = runAs is null ? null : await UserAccount.ResolveAsync(runAs, ct);
        var command = Placeholders.Expand(p.Command, values);
        var info = new ProcessStartInfo(user is null ? command : "setpriv")
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
        };
        if (user is not null)
        {
            foreach (var arg in new[] { $"--reuid={user.Uid}", $"--regid={user.Gid}", "--clear-groups", "--no-new-privs", "--", command })
            {
                info.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in p.Args)
        {
            info.ArgumentList.Add(Placeholders.Expand(arg, values));
        }

        // Instances do not inherit the control plane's environment (its tokens, cloud credentials): a safe
        // list, then what the manifest and the deploy give.
        var inherited = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            inherited[(string)e.Key] = e.Value as string;
        }

        info.Environment.Clear();
        foreach (var (key, value) in InstanceIsolation.BaseEnvironment(inherited, user))
        {
            info.Environment[key] = value;
        }

        foreach (var (key, value) in p.Env.Concat(spec.ExtraEnv))
        {
            info.Environment[key] = Placeholders.Expand(value, values);
        }

        if (options.Owner is not null)
        {
            // Marks the process as ours, so a control plane killed without a chance to stop it can find it again.
            info.Environment[Orphans.OwnerVariable] = options.Owner;
        }

        var started = options.Detached ? StartDetached(info) : StartChild(info);
        lock (gate)
        {
            process = started;
        }

        options.Changed();

        if (options.RecordFolder is { } records)
        {
            new AdoptionRecord(Id, spec.Service.Name, spec.Environment, spec.Key, spec.Version, Index, Address.Port, started.Id, started.StartTime, restarts, Core.Manifest.ProcessSpec.RuntimeKind).Save(records);
        }

        return started;
    }

    /// <summary>Started by the launcher (a container), with the same placeholders and Gantry's environment; recorded for adoption like a process.</summary>
    private async Task<InstanceProcess> LaunchAsync(IInstanceLauncher launcher, CancellationToken ct)
    {
        var values = PlaceholderValues();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in spec.Service.Runtime.Env.Concat(spec.ExtraEnv))
        {
            (spec.Secrets.Contains(key) ? secrets : environment)[key] = Placeholders.Expand(value, values);
        }

        if (options.Owner is not null)
        {
            environment[Orphans.OwnerVariable] = options.Owner;
        }

        string? before;
        lock (gate)
        {
            before = lastError;
        }

        var launch = new InstanceLaunch(spec, Id, Index, Address, values, environment) { Secrets = secrets, Progress = Note };
        var launched = await launcher.LaunchAsync(launch, ct);
        lock (gate)
        {
            // A pull's progress was shown while it ran; once the container runs, the last real error is shown again.
            lastError = before;
        }

        options.Changed();

        var started = InstanceProcess.Launched(launched, ct => launcher.ExitOfAsync(Id, ct));
        lock (gate)
        {
            process = started;
        }

        options.Changed();

        if (options.RecordFolder is { } records)
        {
            new AdoptionRecord(Id, spec.Service.Name, spec.Environment, spec.Key, spec.Version, Index, Address.Port, started.Id, started.StartTime, restarts, launcher.Kind).Save(records);
        }

        return started;
    }

    /// <summary>What the launcher does before the instance runs (an image's pull), in its status and its log.</summary>
    private void Note(string text)
    {
        Append("gantry: " + text);
        lock (gate)
        {
            lastError = text;
        }

        options.Changed();
    }

    /// <summary>What {version}, {port}, {service}, {environment} and {instance} stand for in this instance's texts.</summary>
    private Dictionary<string, string> PlaceholderValues() => new(StringComparer.Ordinal)
    {
        ["version"] = spec.Version,
        ["port"] = Address.Port.ToString(CultureInfo.InvariantCulture),
        ["service"] = spec.Service.Name,
        ["environment"] = spec.Environment,
        ["instance"] = Id,
    };

    /// <summary>A child whose output this process reads: it ends with this process.</summary>
    private InstanceProcess StartChild(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        var started = new System.Diagnostics.Process { StartInfo = info };
        started.OutputDataReceived += (_, e) => Append(e.Data);
        started.ErrorDataReceived += (_, e) => Append(e.Data);
        started.Start();
        started.StandardInput.Close();
        started.BeginOutputReadLine();
        started.BeginErrorReadLine();
        return new InstanceProcess(started, detached: false);
    }

    /// <summary>A process in a session of its own writing to its log file: it outlives this process.</summary>
    private InstanceProcess StartDetached(ProcessStartInfo info)
    {
        var detached = Core.Runtime.DetachedProcess.Info(info.FileName, info.ArgumentList, LogPath!);
        detached.WorkingDirectory = info.WorkingDirectory;
        detached.Environment.Clear();
        foreach (var (key, value) in info.Environment)
        {
            detached.Environment[key] = value;
        }

        return new InstanceProcess(System.Diagnostics.Process.Start(detached) ?? throw new InvalidOperationException("the process did not start"), detached: true);
    }
}
