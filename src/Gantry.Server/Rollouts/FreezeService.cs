using Gantry.Core.Audit;
using Gantry.Core.Policies;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Rollouts;

/// <summary>Freezes people declare (gantry freeze) and lift; the manifest's own freezes are changed by editing it.</summary>
public sealed class FreezeService(GantryManifest manifest, IFreezeStore freezes, ReconcilerSignals signals, TimeProvider time)
{
    /// <summary>Closes an environment to deploys now, until <paramref name="duration"/> has passed or the freeze is lifted.</summary>
    public async Task<Result<DeclaredFreeze>> FreezeAsync(string environment, string? reason, TimeSpan? duration, AuditContext who, CancellationToken ct)
    {
        if (manifest.FindEnvironment(environment) is null && EffectiveService.DefaultEnvironmentOf(manifest) != environment)
        {
            return ProblemCodes.UnknownEnvironment.With($"no environment '{environment}' in the manifest");
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            return Requests.Bad("a freeze needs a reason (--reason)");
        }

        if (Requests.TooLong(reason) is { } tooLong)
        {
            return tooLong;
        }

        var now = time.GetUtcNow();
        return await freezes.DeclareFreezeAsync(new DeclaredFreeze(0, environment, reason.Trim(), who.Actor, now, duration is { } d ? now + d : null), ct, who with { Reason = reason.Trim() });
    }

    /// <summary>Lifts the environment's declared freezes.</summary>
    public async Task<Result<IReadOnlyList<DeclaredFreeze>>> UnfreezeAsync(string environment, AuditContext who, CancellationToken ct)
    {
        var lifted = await freezes.LiftFreezesAsync(environment, who.Actor, time.GetUtcNow(), ct, who);
        if (lifted.Count == 0)
        {
            return ProblemCodes.NotFrozen.With($"{environment} has no declared freeze to lift (freezes in the manifest are lifted by editing it)");
        }

        signals.Wake.Pulse();
        return new Result<IReadOnlyList<DeclaredFreeze>>(lifted, null);
    }
}
