namespace Gantry.Core.Notifications;

/// <summary>
/// Something worth telling people: the event (rollout.aborted, incident.opened, ...), a title, the text of the
/// runbook's message, and its fields (severity, start time, services affected, impact, status, actions taken,
/// next update, links), which a receiver gets as JSON.
/// </summary>
public sealed record Notification(string Event, DateTimeOffset At, string Title, string Text, IReadOnlyDictionary<string, string?> Fields, string? SlackText = null)
{
    /// <summary>
    /// Text for a Slack-compatible receiver: '&amp;', '&lt;' and '&gt;' escaped as Slack asks, so that user text (a title,
    /// a reason) can never become a mention such as &lt;!channel&gt; or a disguised link.
    /// </summary>
    public static string SlackEscape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}

public enum DeliveryStatus
{
    Pending,
    Delivered,
    Dead,
}

/// <summary>A notification on its way to one receiver: attempts so far, when the next is due, the last error.</summary>
public sealed record Delivery(long Id, string Receiver, string Event, Notification Notification, DeliveryStatus Status, int Attempts, DateTimeOffset NextAt, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DoneAt);

/// <summary>Sends a notification to one kind of receiver (webhook, slack, log); throws when the receiver did not take it.</summary>
public interface INotifier
{
    string Kind { get; }

    Task SendAsync(Manifest.ReceiverSpec receiver, Notification notification, CancellationToken ct);
}

/// <summary>
/// A notification to queue for its receivers, written in the transaction of the change it tells of where the
/// store can; once per <see cref="Key"/> and receiver, however often it is queued.
/// </summary>
public sealed record Outbox(Notification Notification, IReadOnlyList<string> Receivers, string Key, DateTimeOffset At);

/// <summary>The outbox: deliveries are written with the change that caused them, then sent, retried, or dead-lettered.</summary>
public interface IDeliveryStore
{
    /// <summary>Queues a notification for its receivers (once per key and receiver).</summary>
    Task EnqueueAsync(Outbox outbox, CancellationToken ct);

    Task<IReadOnlyList<Delivery>> DueDeliveriesAsync(DateTimeOffset now, int limit, CancellationToken ct);

    Task DeliveredAsync(long id, int attempts, DateTimeOffset at, CancellationToken ct);

    /// <summary>Records a failed attempt: due again at <paramref name="nextAt"/>, or dead when <paramref name="dead"/>.</summary>
    Task FailedAsync(long id, int attempts, DateTimeOffset nextAt, string reason, bool dead, DateTimeOffset at, CancellationToken ct);

    Task<IReadOnlyList<Delivery>> DeliveriesAsync(DeliveryStatus? status, int limit, CancellationToken ct);
}
