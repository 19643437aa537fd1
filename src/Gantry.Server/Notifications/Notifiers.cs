using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gantry.Core.Notifications;

namespace Gantry.Server.Notifications;

/// <summary>POSTs the notification as JSON (event, at, title, text, fields) with the receiver's headers; anything but 2xx is a failure.</summary>
public sealed class WebhookNotifier(HttpClient http) : INotifier
{
    public string Kind => "webhook";

    public async Task SendAsync(ReceiverSpec receiver, Notification notification, CancellationToken ct)
    {
        var spec = (WebhookReceiverSpec)receiver;
        using var request = new HttpRequestMessage(HttpMethod.Post, spec.Url) { Content = JsonContent.Create(notification, options: GantryJson.Options) };
        foreach (var (name, value) in spec.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{spec.Url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }
}

/// <summary>POSTs a Slack incoming-webhook message: <c>{"text": ...}</c> with the notification's text.</summary>
public sealed class SlackNotifier(HttpClient http) : INotifier
{
    public string Kind => "slack";

    public async Task SendAsync(ReceiverSpec receiver, Notification notification, CancellationToken ct)
    {
        var spec = (SlackReceiverSpec)receiver;
        using var content = new StringContent(JsonSerializer.Serialize(new { text = notification.SlackText ?? Notification.SlackEscape(notification.Text) }), Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(spec.Url, content, ct);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{spec.Url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }
}

/// <summary>Appends each notification as one JSON line to a file (relative to the manifest's folder).</summary>
public sealed class LogNotifier(string manifestFolder) : INotifier, IDisposable
{
    private readonly SemaphoreSlim writing = new(1, 1);

    public string Kind => "log";

    public async Task SendAsync(ReceiverSpec receiver, Notification notification, CancellationToken ct)
    {
        var path = Path.GetFullPath(((LogReceiverSpec)receiver).Path, manifestFolder);
        await writing.WaitAsync(ct);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.AppendAllTextAsync(path, JsonSerializer.Serialize(notification, GantryJson.Options) + "\n", ct);
        }
        finally
        {
            writing.Release();
        }
    }

    public void Dispose() => writing.Dispose();
}
