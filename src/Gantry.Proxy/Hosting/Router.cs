using System.Net;
using Gantry.Proxy.Forwarding;
using Gantry.Proxy.Health;
using Gantry.Proxy.Metrics;
using Gantry.Proxy.Routing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Hosting;

/// <summary>Why a routing table was not applied; the previous table keeps serving.</summary>
public sealed record ApplyResult(bool Applied, string? Error)
{
    public static ApplyResult Ok { get; } = new(true, null);
}

/// <summary>
/// The built-in router: every cleartext front address behind one Kestrel server (<see cref="PlainListeners"/>), a
/// Kestrel server of its own for each HTTPS one (its certificate and HTTP/2), all reading one compiled snapshot that
/// <see cref="ApplyAsync"/> replaces atomically. A change of weights is in force for the very next
/// request; instances dropped by a change drain; a table that cannot be applied changes nothing.
/// </summary>
public sealed class Router : IAsyncDisposable
{
    private readonly TimeProvider time;
    private readonly InstanceRegistry instances;
    private readonly IForwarder forwarder;
    private readonly ProxyHandler handler;
    private readonly PlainListeners plain;
    private readonly Dictionary<Endpoint, WebApplication> listeners = [];
    private WebApplication? plainHost;
    private Task<WebApplication>? plainHostBuilt;
    private readonly Dictionary<Endpoint, ReloadingCertificate> certificates = [];
    private readonly SemaphoreSlim applying = new(1, 1);
    private readonly RateLimiting.ClientRateLimits limits = new();
    private readonly TableSwaps swaps = new();
    private volatile CompiledTable current;

    /// <summary>The table being applied, while its new listeners start: a request on one of them is routed by it, not answered 404 before the swap.</summary>
    private volatile CompiledTable? coming;

    /// <param name="time">The clock of drains, passive health and metrics.</param>
    /// <param name="sockets">Listening sockets inherited from a predecessor, if any.</param>
    /// <param name="prepareListeners">
    /// Build the server behind the cleartext listeners on the thread pool from the start, not when the first table needs
    /// it: a router starting reads its last table meanwhile (bench/README "A router that starts sooner").
    /// </param>
    public Router(TimeProvider time, ListenerSockets? sockets = null, bool prepareListeners = false)
    {
        this.time = time;
        Sockets = sockets ?? new ListenerSockets();
        plain = new PlainListeners(Sockets);
        if (prepareListeners)
        {
            plainHostBuilt = Task.Run(BuildPlainHost);
        }

        instances = new InstanceRegistry(time);
        Metrics = new MetricsRegistry(time);
        // YARP's forwarder; the hand-written one stays for comparison (GANTRY_FORWARDER=handwritten, bench/router.sh).
        forwarder = Environment.GetEnvironmentVariable("GANTRY_FORWARDER") == "handwritten"
            ? new HttpForwarder(TimeSpan.FromSeconds(5), time)
            : new YarpForwarder(TimeSpan.FromSeconds(5));
        current = CompiledTable.Build(RoutingTable.Empty, instances, Metrics);
        handler = new ProxyHandler(() => current, forwarder, time, swaps, () => coming);
    }

    public MetricsRegistry Metrics { get; }

    /// <summary>The listening sockets, which a successor process can inherit.</summary>
    public ListenerSockets Sockets { get; }

    public RoutingTable Table => current.Spec;

    public CompiledTable Current => current;

    /// <summary>Listens where the new table needs, swaps the snapshot, then closes listeners no longer needed.</summary>
    public async Task<ApplyResult> ApplyAsync(RoutingTable table, CancellationToken ct)
    {
        if (table.Routes.FirstOrDefault(r => r.Groups.Sum(g => (long)g.Weight) <= 0) is { } unroutable)
        {
            return new ApplyResult(false, $"route '{unroutable.Name}' has no group with a weight above 0: no request could be routed");
        }

        await applying.WaitAsync(ct);
        try
        {
            var wanted = table.Listeners.ToHashSet();
            var started = new List<Endpoint>();
            if (await ChangeSchemesAsync(table, ct) is { } refused)
            {
                return refused;
            }

            var compiled = CompiledTable.Build(table, instances, Metrics, limits);
            coming = compiled;

            foreach (var address in wanted.Where(a => !IsListening(a)))
            {
                try
                {
                    if (TlsOf(table, address) is { } tls)
                    {
                        listeners[address] = await StartSecureListenerAsync(address, tls, ct);
                    }
                    else
                    {
                        await StartPlainHostAsync(ct);
                        plain.Add(address);
                    }

                    started.Add(address);
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Net.Sockets.SocketException or System.Security.Cryptography.CryptographicException)
                {
                    // All or nothing: close what this attempt opened, keep serving the old table.
                    coming = null;
                    foreach (var a in started)
                    {
                        await StopListenerAsync(a, ct);
                    }

                    return new ApplyResult(false, $"cannot listen on {address}: {ex.GetBaseException().Message}");
                }
            }

            Sockets.CloseUnused();
            Interlocked.Exchange(ref current, compiled);
            coming = null;
            swaps.Swapped();
            instances.Retire(table.Routes.SelectMany(r => r.Groups).SelectMany(g => g.Instances).ToHashSet());

            foreach (var address in listeners.Keys.Concat(plain.Addresses).Where(a => !wanted.Contains(a)).ToList())
            {
                await StopListenerAsync(address, ct);
            }

            return ApplyResult.Ok;
        }
        finally
        {
            coming = null;
            applying.Release();
        }
    }

    /// <summary>The Prometheus text of every series, with percentiles over <paramref name="window"/>.</summary>
    public string MetricsText(TimeSpan window) => PrometheusWriter.Write(Metrics, window);

    private static TlsSpec? TlsOf(RoutingTable table, Endpoint address) => table.Routes.First(r => r.Listen == address).Tls;

    /// <summary>
    /// Listeners that stay: new certificate files are loaded now (a pair that does not load refuses the table); a listener
    /// changing between HTTP and HTTPS is stopped here and started again with the new scheme below.
    /// </summary>
    private async Task<ApplyResult?> ChangeSchemesAsync(RoutingTable table, CancellationToken ct)
    {
        foreach (var address in listeners.Keys.Concat(plain.Addresses).Where(a => table.Listeners.Contains(a)).ToList())
        {
            var tls = TlsOf(table, address);
            if (tls is not null && certificates.TryGetValue(address, out var certificate))
            {
                try
                {
                    certificate.Use(tls);
                }
                catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or ArgumentException)
                {
                    return new ApplyResult(false, $"cannot load the certificate of {address}: {ex.GetBaseException().Message}");
                }
            }
            else if (tls is not null || certificates.ContainsKey(address))
            {
                await StopListenerAsync(address, ct);
            }
        }

        return null;
    }

    private bool IsListening(Endpoint address) => listeners.ContainsKey(address) || plain.Has(address);

    /// <summary>A listener no longer wanted: a cleartext one stops accepting; an HTTPS one's server stops (waiting for its requests).</summary>
    private async Task StopListenerAsync(Endpoint address, CancellationToken ct)
    {
        if (listeners.Remove(address, out var app))
        {
            await app.StopAsync(ct);
            await app.DisposeAsync();
            DropCertificate(address);
        }
        else
        {
            await plain.RemoveAsync(address);
        }
    }

    private void DropCertificate(Endpoint address)
    {
        if (certificates.Remove(address, out var certificate))
        {
            certificate.Dispose();
        }
    }

    private WebApplication BuildPlainHost() => BuildHost(plain, PlainListeners.Placeholder, listen => listen.Protocols = HttpProtocols.Http1);

    /// <summary>The one server behind every cleartext listener, started with the first of them (HTTP/1.1: HTTP/2 is negotiated by ALPN, so it needs TLS).</summary>
    private async Task StartPlainHostAsync(CancellationToken ct)
    {
        if (plainHost is null)
        {
            // A server built ahead is taken once: if its build failed, the next table builds one here.
            var ahead = plainHostBuilt;
            plainHostBuilt = null;
            WebApplication app;
            try
            {
                app = ahead is not null ? await ahead.WaitAsync(ct) : BuildPlainHost();
            }
            catch (OperationCanceledException) when (ahead is { IsFaulted: false })
            {
                plainHostBuilt = ahead; // still building: disposed with the router
                throw;
            }

            await app.StartAsync(ct);
            plainHost = app;
        }
    }

    private async Task<WebApplication> StartSecureListenerAsync(Endpoint address, TlsSpec tls, CancellationToken ct)
    {
        var certificate = new ReloadingCertificate(time);
        try
        {
            certificate.Use(tls);
            var ip = address.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(address.Host);
            var app = BuildHost(new SharedSocketTransport(Sockets, address), new IPEndPoint(ip, address.Port), listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(https => https.ServerCertificateSelector = (_, _) => certificate.Current);
            });
            await app.StartAsync(ct);
            certificates[address] = certificate;
            return app;
        }
        catch
        {
            certificate.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A Kestrel server on <paramref name="transport"/>. None may watch files: each watcher is an inotify instance, and a
    /// user may have only 128 of them (fs.inotify.max_user_instances).
    /// </summary>
    private WebApplication BuildHost(Microsoft.AspNetCore.Connections.IConnectionListenerFactory transport, IPEndPoint endpoint, Action<ListenOptions> configure)
    {
        var builder = QuietHosts.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(transport);
        builder.WebHost.UseKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Limits.MaxRequestBodySize = null;
            options.Limits.MinRequestBodyDataRate = null;
            options.Limits.MinResponseDataRate = null;
            options.Listen(endpoint, configure);
        });
        var app = builder.Build();
        // Read when a request comes: a server built ahead (prepareListeners) may be made before the handler is.
        app.Run(context => handler.HandleAsync(context));
        return app;
    }

    /// <summary>Stops accepting on every listener and waits up to <paramref name="drain"/> for the requests in progress (a successor accepts meanwhile).</summary>
    public async Task StopListeningAsync(TimeSpan drain)
    {
        using var timeout = new CancellationTokenSource(drain, time);
        await applying.WaitAsync(CancellationToken.None);
        try
        {
            await Task.WhenAll(listeners.Values.Append(plainHost).OfType<WebApplication>().Select(app => app.StopAsync(timeout.Token)));
        }
        finally
        {
            applying.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in listeners.Values)
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }

        listeners.Clear();
        if (plainHostBuilt is { } built)
        {
            // Built ahead and never started.
            await ((Task)built).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (built.IsCompletedSuccessfully)
            {
                await built.Result.DisposeAsync();
            }
        }

        if (plainHost is not null)
        {
            await plainHost.StopAsync(CancellationToken.None);
            await plainHost.DisposeAsync();
        }

        await plain.DisposeAsync();
        foreach (var certificate in certificates.Values)
        {
            certificate.Dispose();
        }

        forwarder.Dispose();
        limits.Dispose();
        applying.Dispose();
    }
}
