using System.Text.Json;
using Gantry.Core;
using Gantry.Core.Rollouts;
using Gantry.Core.Traffic;
using Gantry.Proxy.Hosting;
using Gantry.Proxy.Routing;

namespace Gantry.Proxy.Control;

/// <summary>
/// A numbered set of routes: what the control plane gives a router, and what the router reads back. Among replicas
/// that share one router, <see cref="Published"/> is the version the leader published the table under in the store (0:
/// not published), and <see cref="Follows"/> marks a table a replica's feed passes on from the store: one published
/// before the table in force is refused, so a feed that read the store a moment before the leader's next table
/// cannot put the older one back in force.
/// </summary>
public sealed record RouteTable(long Version, ValueList<TrafficRoute> Routes, long Published = 0, bool Follows = false)
{
    public static RouteTable Empty { get; } = new(0, []);
}

/// <summary>The table a router left on disk: none (no file), or the reason it cannot be read.</summary>
public sealed record SavedTable(RouteTable? Table, string? Error);

/// <summary>Whether a router took a table; when not, why, and the version it keeps serving (<paramref name="Superseded"/>: a newer published table is in force).</summary>
public sealed record TableAnswer(bool Applied, string? Error, long Version, bool Superseded = false);

/// <summary>
/// The routes in force in one <see cref="Router"/>, numbered: applied all or nothing, never an older version over a
/// newer one, and, when <see cref="StateFile"/> is given, written to disk once in force so that a router started
/// again (after a crash, or to upgrade) serves the last table at once, before any control plane speaks to it.
/// </summary>
public sealed class RouterControl(Router router, string? stateFile = null) : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private readonly SemaphoreSlim gate = new(1, 1);
    private volatile RouteTable current = RouteTable.Empty;

    public Router Router => router;

    public string? StateFile => stateFile;

    /// <summary>The table in force.</summary>
    public RouteTable Current => current;

    /// <summary>Serves the table a previous router left in <see cref="StateFile"/>, if any; false with the reason when it could not.</summary>
    public async Task<TableAnswer> RestoreAsync(CancellationToken ct) => await RestoreAsync(await ReadSavedAsync(stateFile, ct), ct);

    /// <summary>
    /// Serves a table read by <see cref="ReadSavedAsync"/> (a router starting reads it while its listeners' server is built):
    /// the file is not written again, it already holds the table.
    /// </summary>
    public async Task<TableAnswer> RestoreAsync(SavedTable saved, CancellationToken ct) => saved switch
    {
        { Error: { } error } => new TableAnswer(false, error, 0),
        { Table: { } table } => await ApplyAsync(table, persist: false, ct),
        _ => new TableAnswer(true, null, 0),
    };

    /// <summary>The table a previous router left in <paramref name="file"/>: none when there is no file, the reason when it cannot be read.</summary>
    public static async Task<SavedTable> ReadSavedAsync(string? file, CancellationToken ct)
    {
        if (file is null || !File.Exists(file))
        {
            return new SavedTable(null, null);
        }

        try
        {
            return new SavedTable(SavedTableReader.Read(await File.ReadAllTextAsync(file, ct)), null);
        }
        catch (JsonException ex)
        {
            return new SavedTable(null, $"{file}: {ex.Message}");
        }
    }

    /// <summary>Puts <paramref name="table"/> in force unless a newer one already is (the same version again changes nothing; a followed table published before the one in force is refused too).</summary>
    public Task<TableAnswer> ApplyAsync(RouteTable table, CancellationToken ct) => ApplyAsync(table, persist: true, ct);

    private async Task<TableAnswer> ApplyAsync(RouteTable table, bool persist, CancellationToken ct)
    {
        await gate.WaitAsync(ct);
        try
        {
            if (table.Follows && table.Published < current.Published)
            {
                return new TableAnswer(false, $"published table {table.Published} is older than published table {current.Published} in force", current.Version, Superseded: true);
            }

            if (table.Version < current.Version)
            {
                return new TableAnswer(false, $"table version {table.Version} is older than version {current.Version} in force", current.Version);
            }

            if (table.Version == current.Version && current.Version > 0 && table.Routes != current.Routes)
            {
                // A version names one table: another writer numbering on its own (a replica on this data directory)
                // numbers after the one in force, so that a read-back of the same version is the same routes.
                return new TableAnswer(false, $"table version {table.Version} is in force with other routes", current.Version);
            }

            if (table.Routes != current.Routes || current.Version == 0)
            {
                var result = await router.ApplyAsync(ToTable(table.Routes), ct);
                if (!result.Applied)
                {
                    return new TableAnswer(false, result.Error, current.Version);
                }
            }

            current = table;
            if (stateFile is not null && persist)
            {
                var temporary = stateFile + ".tmp";
                await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(table, GantryJson.Options), ct);
                File.Move(temporary, stateFile, overwrite: true);
            }

            return new TableAnswer(true, null, table.Version);
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose() => gate.Dispose();

    /// <summary>The router's own table for a control plane's routes.</summary>
    public static RoutingTable ToTable(ValueList<TrafficRoute> routes) => new([.. routes.Select(r => new RouteSpec(
        r.Name, r.Listen, [], "/",
        [.. r.Backends.Select(b => new BackendGroup(b.Name, b.Weight, b.Instances, LoadBalancingPolicy.RoundRobin))],
        [.. r.HeaderRoutes.Select(h => new GroupMatch(h.Match, h.Backend))],
        r.Mirror is { } m ? new MirrorSpec(m.Backend, m.Percent, m.Match) : null,
        r.Sticky is { } sticky ? new Routing.StickySpec(sticky.Cookie, sticky.Header) : null, PassiveHealthSpec.Default, RequestTimeout, r.Drain,
        RateLimit: r.RateLimit is { } limit ? new RateLimitSpec(limit.RequestsPerSecond, limit.Burst) : null,
        Maintenance: r.Maintenance is { } message ? new MaintenanceSpec(message, Core.Traffic.Maintenance.RetryAfterSeconds) : null,
        Pause: r.Pause is { } hold ? new PauseSpec(hold, TrafficPause.RetryAfterSeconds) : null,
        Tls: r.Tls is { } tls ? new TlsSpec(tls.CertificateFile, tls.KeyFile) : null))]);
}
