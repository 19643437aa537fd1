using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace Gantry.Core.Manifest;

/// <summary>
/// <c>{word}</c> placeholders in manifest texts. Only a brace around a single word is a placeholder,
/// so PromQL label matchers (<c>{job="x"}</c>) and JSON in arguments pass through untouched.
/// </summary>
public static partial class Placeholders
{
    /// <summary>Placeholders a process's command, args, env and working directory may use.</summary>
    public static readonly ImmutableArray<string> Process = ["version", "port", "service", "environment", "instance"];

    /// <summary>Placeholders a metric query or URL may use.</summary>
    public static readonly ImmutableArray<string> Query = ["service", "group", "version", "environment", "set"];

    /// <summary>Placeholders a notification template may use: the message's fields, its title and event, and the default text.</summary>
    public static readonly ImmutableArray<string> Notification =
        ["title", "event", "text", "severity", "startTime", "services", "impact", "status", "actionsTaken", "nextUpdate", "incident", "rollout", "version", "rootCause", "escalationLevel", "resolvedAt"];

    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_.-]*)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Every placeholder in a text: its word and the offset of its opening brace.</summary>
    public static IEnumerable<(string Word, int Offset)> Find(string text) =>
        Pattern().Matches(text).Select(m => (m.Groups[1].Value, m.Index));

    /// <summary>Fills in the placeholders that have a value; others are left as written.</summary>
    public static string Expand(string text, IReadOnlyDictionary<string, string> values) =>
        Pattern().Replace(text, m => values.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);
}
