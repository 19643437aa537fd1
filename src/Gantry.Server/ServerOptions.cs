using System.Net;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Server;

/// <summary>
/// Where the control plane keeps its data and where its API listens: with <see cref="Tls"/> over HTTPS; the
/// metrics and the API's own description answered without a token when <see cref="PublicMetrics"/> says so
/// (by default only on a loopback address).
/// </summary>
/// With <see cref="RouterProcess"/> the data plane outlives the server: the router is a process of its own and the
/// instances are adopted by the next server on this data directory; without it (tests, the demo) both live and die
/// with the server.
public sealed record ServerOptions(string DataDirectory, Endpoint Listen, Access.AccessOptions? Access = null, ApiTls? Tls = null, bool? PublicMetrics = null, Routers.RouterLaunch? RouterProcess = null)
{
    /// <summary>A PostgreSQL database (<c>postgres://user:password@host:port/database</c>) to keep the store in; null: SQLite in the data directory.</summary>
    public string? Store { get; init; }

    /// <summary>This server's name among the replicas of its store (default: the machine's name).</summary>
    public string? Replica { get; init; }

    /// <summary>
    /// The address this machine's router listens on for every service, in place of the host the manifest writes (its
    /// ports kept); null: as written. Replicas with a router each on one host need one each.
    /// </summary>
    public string? RouterAddress { get; init; }

    /// <summary>Replicas: a shared store and a data plane apart, so that one may lead while others stand by.</summary>
    public bool Clustered => Store is not null && RouterProcess is not null;

    /// <summary>How often the reconciler visits every service even if nothing said it changed.</summary>
    public TimeSpan Resync { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Backups the server writes on its own, if any.</summary>
    public Backups.BackupSchedule? Backups { get; init; }

    public static Endpoint DefaultListen { get; } = new("127.0.0.1", 7700);

    /// <summary>Whether the API listens on a loopback address only.</summary>
    public bool IsLoopback => Listen.Host == "localhost" || (IPAddress.TryParse(Listen.Host, out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>/metrics and /api/v1/openapi.json without a token: as asked, else only on loopback.</summary>
    public bool MetricsArePublic => PublicMetrics ?? IsLoopback;

    /// <summary>Why this setup deserves a warning (an API reachable from the network without TLS), or null.</summary>
    public string? Warning => IsLoopback || Tls is not null
        ? null
        : $"the API listens on {Listen} without TLS: tokens and secrets cross the network in clear; give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS proxy";
}

/// <summary>The API's certificate and private key, as PEM files.</summary>
public sealed record ApiTls(string CertificateFile, string KeyFile);

/// <summary>The locks a replica holds on a shared data directory, given back together.</summary>
internal sealed class DataDirectoryLock(params FileStream[] locks) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        foreach (var held in locks)
        {
            await held.DisposeAsync();
        }
    }
}
