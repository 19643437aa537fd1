namespace Gantry.Server.Notifications;

/// <summary>The notifiers of the embedded server, by kind.</summary>
public sealed class NotifierSet(HttpClient http, string manifestFolder) : IDisposable
{
    private readonly LogNotifier log = new(manifestFolder);

    public IReadOnlyDictionary<string, Core.Notifications.INotifier> ByKind => new Dictionary<string, Core.Notifications.INotifier>(StringComparer.Ordinal)
    {
        ["webhook"] = new WebhookNotifier(http),
        ["slack"] = new SlackNotifier(http),
        ["log"] = log,
    };

    public void Dispose() => log.Dispose();
}
