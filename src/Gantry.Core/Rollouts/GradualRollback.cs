using System.Globalization;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Rollouts;

/// <summary>
/// A rollback that moves traffic back in steps: <see cref="Steps"/> is the share (percent) left on the release being
/// rolled back at each step, falling and ending at 0, one step every <see cref="Every"/> once the earlier release is
/// ready (<c>gantry rollback SERVICE --steps 50%,0% --every 1m</c>).
/// </summary>
public sealed record GradualRollback(ValueList<int> Steps, TimeSpan Every)
{
    /// <summary>Analysis templates run at each step on the earlier release at its new share; a failure holds the rollback for a person.</summary>
    public ValueList<string> Analysis { get; init; } = [];

    /// <summary>The plan for <paramref name="steps"/> (<c>50%,0%</c>) and <paramref name="every"/> (<c>1m</c>; default one minute), or why not.</summary>
    public static GradualRollback? Parse(string steps, string? every, out string? error)
    {
        error = null;
        var shares = new List<int>();
        foreach (var part in steps.Split(',', StringSplitOptions.TrimEntries))
        {
            var text = part.EndsWith('%') ? part[..^1] : part;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var share) || share > 99)
            {
                error = $"steps: '{part}' is not a share of traffic from 0% to 99%";
                return null;
            }

            shares.Add(share);
        }

        if (shares.Count == 0 || shares[^1] != 0)
        {
            error = "steps: the last step must be 0% (all traffic back on the earlier release)";
            return null;
        }

        if (shares.Zip(shares.Skip(1)).Any(p => p.Second >= p.First))
        {
            error = $"steps: each step must leave less traffic on the release rolled back than the one before ({steps})";
            return null;
        }

        var interval = TimeSpan.FromMinutes(1);
        if (every is not null)
        {
            if (DurationSyntax.TryParse(every, out var parsed) is not null || parsed < TimeSpan.FromSeconds(1) || parsed > TimeSpan.FromDays(1))
            {
                error = $"every: '{every}' must be a duration from 1s to 24h (for example 30s, 1m)";
                return null;
            }

            interval = parsed;
        }

        return new GradualRollback([.. shares], interval);
    }

    /// <summary>For people: <c>50%, 0% every 1m</c>.</summary>
    public override string ToString() =>
        string.Join(", ", Steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s}%"))) + " every " + DurationSyntax.Format(Every)
        + (Analysis.IsEmpty ? string.Empty : $", analysis {string.Join(", ", Analysis)} at each step");
}
