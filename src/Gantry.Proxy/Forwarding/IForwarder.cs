using Gantry.Proxy.Health;
using Microsoft.AspNetCore.Http;

namespace Gantry.Proxy.Forwarding;

/// <summary>Forwards one front request to one instance and says how it ended; sends mirrored copies on the same pool.</summary>
public interface IForwarder : IDisposable
{
    Task<ForwardResult> ForwardAsync(HttpContext context, InstanceState instance, TimeSpan timeout, byte[]? bufferedBody);

    Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage message, CancellationToken ct);
}
