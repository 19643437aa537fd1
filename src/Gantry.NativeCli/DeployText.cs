using System.Text.Json;

namespace Gantry.NativeCli;

/// <summary>
/// What <c>gantry deploy</c> prints, from the server's JSON rather than from types: the full program's
/// <c>RolloutText.Headline</c> and its deploy lines, written again here (a test holds the two to the same text).
/// </summary>
internal static class DeployText
{
    public static string Started(JsonElement view)
    {
        var r = view.GetProperty("rollout");
        var service = Text(r, "service");
        return $"{Headline(r)}\n  {Text(r, "message")}\n  follow it: gantry status {service} --watch";
    }

    public static string Queued(JsonElement queued) =>
        $"{Text(queued, "service")} {Text(queued.GetProperty("release"), "version")} queued in {Text(queued, "environment")} (#{queued.GetProperty("id").GetInt64()}): it starts when the active rollout ends";

    private static string Headline(JsonElement r)
    {
        var previous = Text(r, "previousVersion");
        var what = Text(r, "strategy") switch
        {
            "initial" => "first release",
            "rollback" => $"rollback from {previous}",
            "blueGreen" => $"blue-green from {previous}",
            "rolling" => $"rolling from {previous}",
            _ => $"canary from {previous}",
        };
        var emergency = r.TryGetProperty("emergency", out var e) && e.ValueKind == JsonValueKind.True;
        return $"{(emergency ? "EMERGENCY " : string.Empty)}rollout {Text(r, "id")}: {Text(r, "service")} {Text(r.GetProperty("release"), "version")} ({what}) in {Text(r, "environment")}: {EnumName(Text(r, "phase"))}"
            + (emergency ? $"\n  emergency deploy by {Text(r, "createdBy")}: {Text(r, "emergencyReason")}" : string.Empty);
    }

    /// <summary>A string property, or null when it is null or missing.</summary>
    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The enum member's name from its camel-case JSON name (<c>awaitingApproval</c>: <c>AwaitingApproval</c>).</summary>
    private static string? EnumName(string? json) => json is { Length: > 0 } ? char.ToUpperInvariant(json[0]) + json[1..] : json;
}
