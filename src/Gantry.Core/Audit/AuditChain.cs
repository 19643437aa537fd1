using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gantry.Core.Audit;

/// <summary>Who caused a change, from where, and why; recorded with the change in the same transaction.</summary>
public sealed record AuditContext(string Actor, string? Reason = null, string? Source = null)
{
    /// <summary>Gantry itself: the reconciler's decisions (an analysis abort, a step reached).</summary>
    public static AuditContext System { get; } = new("gantry");
}

/// <summary>
/// One event of the append-only audit trail: who did what to which target, when, from where, why, and the
/// SHA-256 of the previous event, so that editing, deleting, inserting or reordering events shows.
/// <see cref="Approvals"/> is the approval chain behind the change: who approved the rollout it belongs to.
/// </summary>
public sealed record AuditEvent(long Seq, DateTimeOffset At, string Actor, string Action, string Target, string Detail, string? Reason, string? Source, string PreviousHash, string Hash, string? Approvals = null);

/// <summary>The outcome of re-computing the chain: intact, or the first event that is not what was written.</summary>
public sealed record AuditVerification(bool Intact, long Checked, long? FirstBad, string Message);

/// <summary>A query of the audit trail.</summary>
public sealed record AuditQuery(string? Target = null, DateTimeOffset? Since = null, int Limit = 1000);

/// <summary>Where the audit trail is kept.</summary>
public interface IAuditStore
{
    /// <summary>Events oldest first, optionally about one target (a rollout id, or service/environment) and since a time.</summary>
    Task<IReadOnlyList<AuditEvent>> AuditAsync(AuditQuery query, CancellationToken ct);

    /// <summary>Every event, oldest first, for export and verification.</summary>
    IAsyncEnumerable<AuditEvent> AllAuditAsync(CancellationToken ct);

    /// <summary>
    /// Re-computes the whole chain (<see cref="AuditChain.VerifyAsync"/>) over the trail and the head recorded beside it
    /// (which catches events cut from its end), both read as of one moment: events appended meanwhile are not a cut.
    /// </summary>
    Task<AuditVerification> VerifyAuditAsync(CancellationToken ct);

    /// <summary>Records what Gantry observed and did outside any stored change (a router restarted, instances of a removed service stopped).</summary>
    Task RecordAsync(AuditEntry entry, DateTimeOffset at, AuditContext who, CancellationToken ct);
}

/// <summary>The hash chain: how an event's hash is made, and how a trail is checked.</summary>
public static class AuditChain
{
    /// <summary>The previous hash of the first event.</summary>
    public static readonly string Genesis = new('0', 64);

    /// <summary>
    /// SHA-256 over every field of the event, each length-prefixed so that no two events share an input. The
    /// approval chain is a field only when there is one, so events written before it existed keep their hashes.
    /// </summary>
    public static string HashOf(long seq, DateTimeOffset at, string actor, string action, string target, string detail, string? reason, string? source, string previousHash, string? approvals = null)
    {
        var text = new StringBuilder();
        string[] fields = [seq.ToString(CultureInfo.InvariantCulture), at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture), actor, action, target, detail, reason ?? "\u0000", source ?? "\u0000", previousHash];
        foreach (var field in approvals is null ? fields : [.. fields, "approvals", approvals])
        {
            text.Append(field.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(field).Append('|');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public static string HashOf(AuditEvent e) => HashOf(e.Seq, e.At, e.Actor, e.Action, e.Target, e.Detail, e.Reason, e.Source, e.PreviousHash, e.Approvals);

    /// <summary>Re-computes the chain over the events as stored (by sequence number) and the recorded head.</summary>
    public static async Task<AuditVerification> VerifyAsync(IAsyncEnumerable<AuditEvent> events, string? head, CancellationToken ct)
    {
        var previous = Genesis;
        long? lastSeq = null;
        long count = 0;
        await foreach (var e in events.WithCancellation(ct))
        {
            count++;
            if (lastSeq is { } last && e.Seq != last + 1)
            {
                return Bad(count, e.Seq, string.Create(CultureInfo.InvariantCulture, $"events {last + 1} to {e.Seq - 1} are missing: deleted from the trail"));
            }

            if (lastSeq is null && e.Seq != 1)
            {
                return Bad(count, e.Seq, string.Create(CultureInfo.InvariantCulture, $"the trail starts at event {e.Seq}: events 1 to {e.Seq - 1} were deleted"));
            }

            if (HashOf(e) != e.Hash)
            {
                return Bad(count, e.Seq, string.Create(CultureInfo.InvariantCulture, $"event {e.Seq} ({e.Action} by {e.Actor} at {e.At:yyyy-MM-dd HH:mm:ss} UTC) was edited: its content does not match its hash"));
            }

            if (e.PreviousHash != previous)
            {
                return Bad(count, e.Seq, string.Create(CultureInfo.InvariantCulture, $"event {e.Seq} does not follow event {e.Seq - 1}: an event was inserted, reordered or replaced there"));
            }

            previous = e.Hash;
            lastSeq = e.Seq;
        }

        if ((head ?? Genesis) != previous)
        {
            return Bad(count, (lastSeq ?? 0) + 1, string.Create(CultureInfo.InvariantCulture, $"the trail ends at event {lastSeq ?? 0}, but its recorded head is another event: events were cut from its end"));
        }

        return new AuditVerification(true, count, null, string.Create(CultureInfo.InvariantCulture, $"{count} events verified: the chain is intact"));
    }

    private static AuditVerification Bad(long count, long seq, string message) => new(false, count, seq, message);
}
