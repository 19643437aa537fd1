namespace Gantry.Core.Manifest;

/// <summary>"Did you mean" for misspelt keys, names and placeholders.</summary>
public static class Suggestions
{
    /// <summary>The closest candidate within a small edit distance, or null.</summary>
    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        var list = candidates as IReadOnlyCollection<string> ?? [.. candidates];
        if (input.Length >= 2)
        {
            // A word cut short or run on ("Thurs" for "Thu", "interv" for "interval") is the likeliest slip.
            var prefixed = list.Where(c => c.Length >= 2 && (c.StartsWith(input, StringComparison.OrdinalIgnoreCase) || input.StartsWith(c, StringComparison.OrdinalIgnoreCase))).ToList();
            if (prefixed.Count == 1)
            {
                return prefixed[0];
            }
        }

        foreach (var candidate in list)
        {
            var d = Distance(input.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (d < bestDistance)
            {
                best = candidate;
                bestDistance = d;
            }
        }

        var allowed = Math.Max(1, (Math.Max(input.Length, best?.Length ?? 0) + 2) / 4);
        return best is not null && bestDistance <= allowed ? best : null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
