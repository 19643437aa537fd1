using System.Globalization;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Policies;

/// <summary>Whether a release may enter an environment under its promotion rule, and if not, why and from when.</summary>
public sealed record PromotionVerdict(bool Allowed, string Message, DateTimeOffset? AllowedAt = null);

/// <summary>
/// The promotion lifecycle (development, then staging, then production): a release enters an environment
/// only after its rollout succeeded in the source environment and it then ran there, as the stable
/// release, for the soak time. It counts as running there until the next rollout of the service in the
/// source environment replaced it; a release rolled back there never counts.
/// </summary>
public static class PromotionRule
{
    /// <param name="source">The service's rollouts in the source environment, newest first.</param>
    public static PromotionVerdict Check(PromotionSpec promotion, string environment, string service, string version, IReadOnlyList<RolloutState> source, DateTimeOffset now)
    {
        var ordered = source.OrderByDescending(r => r.CreatedAt).ToList();
        var success = ordered.FirstOrDefault(r => r.Release.Version == version && r.Kind == RolloutKind.Deploy && r.Phase is RolloutPhase.Succeeded or RolloutPhase.RolledBack);
        if (success is null || success.FinishedAt is not { } since)
        {
            return new PromotionVerdict(false, $"{service} {version} has not succeeded in {promotion.From}: {environment} takes releases from {promotion.From} only");
        }

        if (success.Phase == RolloutPhase.RolledBack)
        {
            return new PromotionVerdict(false, $"{service} {version} was rolled back in {promotion.From} ({success.Id}): it cannot be promoted to {environment}");
        }

        // It ran in the source environment until a later rollout there took over.
        var replaced = ordered.Where(r => r.CreatedAt > success.CreatedAt && r.Phase == RolloutPhase.Succeeded && r.FinishedAt is not null)
            .Select(r => r.FinishedAt).LastOrDefault();
        var soaked = (replaced ?? now) - since;
        if (soaked >= promotion.Soak)
        {
            return new PromotionVerdict(true, $"{service} {version} succeeded in {promotion.From} and ran there for {DurationSyntax.Format(Round(soaked))}");
        }

        return replaced is null
            ? new PromotionVerdict(false, string.Create(CultureInfo.InvariantCulture,
                $"{service} {version} has soaked in {promotion.From} for {DurationSyntax.Format(Round(soaked))} of {DurationSyntax.Format(promotion.Soak)}: it may enter {environment} from {since + promotion.Soak:yyyy-MM-dd HH:mm} UTC"), since + promotion.Soak)
            : new PromotionVerdict(false, $"{service} {version} ran in {promotion.From} for only {DurationSyntax.Format(Round(soaked))} of {DurationSyntax.Format(promotion.Soak)} before it was replaced there");
    }

    private static TimeSpan Round(TimeSpan span) => TimeSpan.FromSeconds(Math.Floor(span.TotalSeconds));
}
