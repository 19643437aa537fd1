using System.Collections.Immutable;
using Gantry.Core.Manifest.Schema;

namespace Gantry.Core.Manifest;

/// <summary>Reading what runs around a service's rollouts: its jobs at hook points and its watch after promotion.</summary>
internal sealed partial class ManifestReader
{
    private ImmutableArray<JobSpec> ReadJobs(MapReader m) =>
        ReadNamed(m, "jobs", "job", ServiceShapes.Job, (name, j, _) =>
        {
            var args = j.ScalarList<string>("args");
            var at = j.Enum<JobHook>("at");
            return args.IsEmpty || at is null
                ? null
                : new JobSpec(name, at.Value, args, j.Bool("shell") ?? false, ReadStringMap(j, "env", "environment variable", null), Positive(j, "timeout") ?? JobSpec.DefaultTimeout, j.Int("retries") ?? 0);
        });

    private WatchSpec? ReadWatch(MapReader m, string service)
    {
        if (m.Object("watch", $"watch of service '{service}'") is not { } w)
        {
            return null;
        }

        var length = Positive(w, "for");
        var names = w.ScalarList<string>("templates");
        for (var i = 0; i < names.Length; i++)
        {
            templateRefs.Add((names[i], ctx.Positions.Find($"{w.Child("templates")}[{i}]") ?? w.Node.Start));
        }

        var onFailure = w.Enum<WatchFailureAction>("onFailure") ?? WatchFailureAction.Rollback;
        return length is { } l ? new WatchSpec(l, names, onFailure) : null;
    }
}
