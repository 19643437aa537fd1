using Gantry.Core.Manifest;

namespace Gantry.Core.Rollouts;

/// <summary>The jobs a rollout waits for: those of the service at <see cref="Hook"/>, run once per <see cref="Key"/>.</summary>
public sealed record JobRequest(string Key, JobHook Hook, ValueList<string> Names);

/// <summary>How one job ended: in which attempt of the rollout, after how many tries, and its last lines of output.</summary>
public sealed record JobOutcome(string Name, JobHook Hook, int Attempt, bool Succeeded, int Tries, string Summary, string Output, DateTimeOffset FinishedAt)
{
    /// <summary>Lines of output kept per job (the last ones).</summary>
    public const int LinesKept = 20;

    /// <summary>Characters of output kept per job (the last ones).</summary>
    public const int CharactersKept = 4000;

    /// <summary>The last <see cref="LinesKept"/> lines of <paramref name="output"/>, at most <see cref="CharactersKept"/> characters.</summary>
    public static string Tail(string output)
    {
        var lines = output.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n');
        var kept = string.Join('\n', lines.Skip(Math.Max(0, lines.Length - LinesKept)));
        return kept.Length > CharactersKept ? kept[^CharactersKept..] : kept;
    }
}
