using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gantry.Proxy.Hosting;
using Gantry.Runtime.Process;
using Gantry.Server.Api;
using Gantry.Server.Reconciler;
using Gantry.Server.Rollouts;
using Gantry.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server;

/// <summary>
/// The embedded control plane: the SQLite store, the process runtime, the built-in router, the reconciler
/// and the REST API, in one process, composed on the generic host (<see cref="Hosting.ServerComposition"/>).
/// Instances left by a server that was killed are stopped first; the reconciler then brings back what the
/// stored rollouts want.
/// </summary>
public sealed partial class GantryServer : IAsyncDisposable
{
    private readonly IAsyncDisposable dataLock;
    private readonly Hosting.ControlPlaneParts parts;
    private WebApplication? app;

    private GantryServer(IAsyncDisposable dataLock, Hosting.ControlPlaneParts parts)
    {
        this.dataLock = dataLock;
        this.parts = parts;
    }

    private IServiceProvider Services => app?.Services ?? throw new InvalidOperationException("the server has not started");

    public RolloutReconciler Reconciler => Services.GetRequiredService<RolloutReconciler>();

    public Reconciler.ReconcilerSignals Signals => Services.GetRequiredService<Reconciler.ReconcilerSignals>();

    /// <summary>Rollouts as the API shows them.</summary>
    public RolloutViews Views => Services.GetRequiredService<RolloutViews>();

    public Gates.GateService Gates => Services.GetRequiredService<Gates.GateService>();

    public Access.TokenService Tokens => Services.GetRequiredService<Access.TokenService>();

    public Incidents.IncidentService Incidents => Services.GetRequiredService<Incidents.IncidentService>();

    public Notifications.NotificationService Notifications => Services.GetRequiredService<Notifications.NotificationService>();

    /// <summary>The local admin token (also in <c>DATA/admin.token</c>, mode 0600), for the embedded server's own machine.</summary>
    public string AdminToken { get; private set; } = string.Empty;

    /// <summary>The router the reconciler drives: in this process, or a <see cref="Routers.RouterProcess"/>.</summary>
    public Core.Traffic.ITrafficRouter Router => parts.Router.Traffic;

    /// <summary>The store, behind every repository interface.</summary>
    public Storage.Sql.SqlStore Store => parts.Store;

    /// <summary>Every endpoint the server answers, with its metadata (the roles it requires), for the authorisation matrix.</summary>
    public IReadOnlyList<Microsoft.AspNetCore.Http.Endpoint> Endpoints =>
        app?.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints ?? [];

    /// <summary>The API's base address, for example <c>http://127.0.0.1:7700</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Whether this server drives the rollouts (always, alone; while it holds the lease, among replicas).</summary>
    public Cluster.Leadership Leadership { get; private init; } = Cluster.Leadership.Alone();

    /// <summary>How many instances of a killed predecessor were stopped at start.</summary>
    public int OrphansStopped { get; private set; }

    /// <summary>The mark this data directory's instances carry, so that a successor can find them.</summary>
    public static string OwnerOf(string dataDirectory) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory))))[..16];

    /// <summary>
    /// Opens the data directory, stops a killed predecessor's instances, and starts the host: the loops and the API.
    /// <paramref name="configure"/> may replace registered services (a test's traffic router, say) before the host is built.
    /// </summary>
    public static async Task<GantryServer> StartAsync(GantryManifest manifest, string manifestFolder, ServerOptions options, TimeProvider time, ILoggerFactory? loggers, CancellationToken ct, Action<IServiceCollection>? configure = null)
    {
        loggers ??= NullLoggerFactory.Instance;
        var leadership = options.Clustered ? Cluster.Leadership.AmongReplicas(options.Replica ?? Environment.MachineName) : Cluster.Leadership.Alone();
        var dataLock = OpenDataDirectory(options.DataDirectory, leadership);
        var owner = OwnerOf(options.DataDirectory);
        Runtime.LoopbackPorts.Reserve(ListenPorts(manifest));
        // A detached data plane: the instances a predecessor left running are adopted; anything else it marked is stopped
        // (not among replicas: what another replica runs is not an orphan).
        var records = options.RouterProcess is null ? null : Path.Combine(options.DataDirectory, "instances");
        var adoptable = records is null ? [] : AdoptionRecord.Living(records, owner);
        var orphans = leadership.Clustered ? 0 : await Orphans.StopAsync(owner, TimeSpan.FromSeconds(10), time, ct, adoptable.Select(r => r.Pid).ToHashSet());
        var store = OpenStore(options, time);
        // What replicas share in an engine (swarm services) is the store's, found by whichever replica leads, on any machine.
        var shared = leadership.Clustered ? await SharedOwnerAsync(store, ct) : owner;
        var runtime = await Hosting.ServerRuntimes.RuntimeFor(manifest, options, new Hosting.Owners(owner, shared), records, adoptable, time, (set, ex) => LogScaleDownFailed(loggers.CreateLogger<GantryServer>(), set.ToString(), ex), ct);
        var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) });
        var router = await StartRouterAsync(options, store, time, loggers, ct);
        var parts = new Hosting.ControlPlaneParts(manifest, manifestFolder, store, runtime, router, http, new Notifications.NotifierSet(http, manifestFolder)) { Resync = options.Resync };
        var server = new GantryServer(dataLock, parts) { OrphansStopped = orphans, Leadership = leadership };
        try
        {
            if (Core.Runtime.RuntimeFit.Problems(runtime, manifest) is [var problem, ..])
            {
                throw new InvalidOperationException(problem);
            }

            foreach (var (service, tls) in manifest.Services.Where(s => s.Tls is not null).Select(s => (s.Name, s.Tls!.In(manifestFolder))))
            {
                if (new[] { tls.CertificateFile, tls.KeyFile }.FirstOrDefault(f => !File.Exists(f)) is { } missing)
                {
                    throw new InvalidOperationException($"service '{service}': the TLS file {missing} does not exist");
                }
            }

            await server.StartHostAsync(options, time, loggers, configure, ct);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    private static async Task<string> SharedOwnerAsync(Storage.Sql.SqlStore store, CancellationToken ct)
    {
        try
        {
            return await store.ClusterIdAsync(ct);
        }
        catch (Exception ex) when (Storage.Sql.StoreFailure.Of(ex) is { } reason)
        {
            throw new InvalidOperationException($"{store.Describe}: {reason}", ex);
        }
    }

    /// <summary>The store <see cref="ServerOptions.Store"/> names (a PostgreSQL database), else the data directory's SQLite file; secret values sealed with the data directory's key.</summary>
    private static Storage.Sql.SqlStore OpenStore(ServerOptions options, TimeProvider time)
    {
        var secrets = Storage.Secrets.SecretBox.ForDataDirectory(options.DataDirectory);
        return options.Store is { } location
            ? Storage.Postgres.PostgresStore.Open(location, time, secrets)
            : SqliteStore.Open(Path.Combine(options.DataDirectory, "gantry.db"), time, secrets);
    }

    /// <summary>The router in this process, or the data directory's router process (found running, or started).</summary>
    private static async Task<Hosting.RouterParts> StartRouterAsync(ServerOptions options, Storage.Sql.SqlStore store, TimeProvider time, ILoggerFactory loggers, CancellationToken ct)
    {
        if (options.RouterProcess is { } launch)
        {
            var process = new Routers.RouterProcess(new Proxy.Control.RouterFiles(options.DataDirectory), launch, store, time, loggers.CreateLogger<Routers.RouterProcess>());
            try
            {
                await process.StartAsync(ct);
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }

            return new Hosting.RouterParts(options.RouterAddress is { } host ? new Routers.BoundRouter(process, host) : process, process, process);
        }

        var router = new Router(time);
        var control = new Proxy.Control.RouterControl(router);
        return new Hosting.RouterParts(new BuiltinTrafficRouter(control), new Proxy.Metrics.Measurements(router.Metrics), new EmbeddedRouter(router, control));
    }

    private sealed class EmbeddedRouter(Router router, Proxy.Control.RouterControl control) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await router.DisposeAsync();
            control.Dispose();
        }
    }

    /// <summary>The data directory holds the local admin token and the values of secret variables: its owner's only, and one server's at a time.</summary>
    private static IAsyncDisposable OpenDataDirectory(string directory, Cluster.Leadership leadership)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var mode = File.GetUnixFileMode(directory);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"the data directory {directory} is open to other users (mode {Convert.ToString((int)mode, 8)}): it holds the admin token, the secret key and the database. Run 'chmod 700 {directory}'"));
            }
        }

        if (!leadership.Clustered)
        {
            try
            {
                return new FileStream(Path.Combine(directory, "server.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                throw new InvalidOperationException($"another gantry server is using the data directory {directory}");
            }
        }

        // Replicas on one store share the data directory (its router, its instances' records): each holds the server
        // lock shared (so 'gantry down' and a server alone still see it taken) and its own name's lock alone.
        FileStream? shared = null;
        try
        {
            shared = new FileStream(Path.Combine(directory, "server.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            Directory.CreateDirectory(Path.Combine(directory, "replicas"));
            return new DataDirectoryLock(shared, new FileStream(Path.Combine(directory, "replicas", leadership.Replica + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException)
        {
            shared?.Dispose();
            throw new InvalidOperationException($"a gantry server alone, or replica '{leadership.Replica}', is using the data directory {directory} (give each replica its own --replica name)");
        }
    }

    private async Task StartHostAsync(ServerOptions options, TimeProvider time, ILoggerFactory loggers, Action<IServiceCollection>? configure, CancellationToken ct)
    {
        var listen = options.Listen;
        var log = loggers.CreateLogger<GantryServer>();
        var certificate = options.Tls is { } tls ? LoadCertificate(tls) : null;
        var builder = Proxy.Hosting.QuietHosts.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(time);
        Hosting.ServerComposition.AddGantryControlPlane(builder.Services, parts, options.Access ?? new Access.AccessOptions(), Leadership);
        Backups.ScheduledBackups.Add(builder.Services, options.Backups, Leadership);
        configure?.Invoke(builder.Services);
        builder.Services.AddProblemDetails();
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddOpenApi("v1");
        builder.Services.ConfigureHttpJsonOptions(o => GantryJson.Configure(o.SerializerOptions));
        builder.WebHost.UseKestrel(o =>
        {
            o.AddServerHeader = false;
            // The largest legitimate call (a deploy with 200 variables of 16 KiB at most, or a gate evaluation) fits in 1 MiB.
            o.Limits.MaxRequestBodySize = 1024 * 1024;
            o.Listen(listen.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(listen.Host), listen.Port, l =>
            {
                if (certificate is not null)
                {
                    l.UseHttps(certificate);
                }
            });
        });
        var web = builder.Build();
        app = web;
        UseProblems(web, log);
        web.UseRouting();
        web.Services.GetRequiredService<Access.AccessControl>().Use(web);
        ApiEndpoints.Map(web, options.MetricsArePublic, MetricsTextAsync);
        AdminToken = await Tokens.EnsureLocalAdminAsync(options.DataDirectory, ct);
        await web.StartAsync(ct);
        Address = new Uri($"{(certificate is null ? "http" : "https")}://{listen}");
        ApiStarted(log, Address, options.MetricsArePublic);
        if (options.Warning is { } warning)
        {
            Insecure(log, warning);
        }
    }

    /// <summary>Every error the HTTP layer raises (malformed requests, unknown paths, failures) as problem+json with a catalog code.</summary>
    private static void UseProblems(WebApplication web, ILogger log)
    {
        web.UseExceptionHandler(errors => errors.Run(async context =>
        {
            // Malformed requests (bad JSON, wrong types) are the client's: 400, as problem+json.
            var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            if (error is not null && Storage.Sql.StoreFailure.Of(error) is { } reason)
            {
                // The database went away under the request: say so (503, a stable code), not "the server failed".
                var store = context.RequestServices.GetService<Storage.Sql.SqlStore>()?.Describe ?? "the store";
                await ProblemResults.For(ProblemCodes.StoreUnavailable.With($"{store}: {reason}; nothing was changed, the routers keep serving the last split", 503)).ExecuteAsync(context);
                return;
            }

            var status = error is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            if (status == 500)
            {
                RequestFailed(log, context.Request.Method, context.Request.Path, id, error);
            }

            var detail = status == 500 ? $"the server failed (error {id}); its log has the details" : error?.GetBaseException().Message ?? "bad request";
            var problem = status switch
            {
                400 => ProblemCodes.InvalidRequest.With(detail),
                _ => ProblemCodes.ForStatus(status).With(detail, status),
            };
            await ProblemResults.For(problem).ExecuteAsync(context);
        }));
        web.UseStatusCodePages(async status =>
        {
            if (status.HttpContext.Response.ContentType is null)
            {
                var code = status.HttpContext.Response.StatusCode;
                await ProblemResults.For(ProblemCodes.ForStatus(code).With(code == 405
                    ? $"{status.HttpContext.Request.Method} is not allowed on {status.HttpContext.Request.Path}"
                    : $"{status.HttpContext.Request.Method} {status.HttpContext.Request.Path} is not part of the API", code)).ExecuteAsync(status.HttpContext);
            }
        });
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2 LoadCertificate(ApiTls tls)
    {
        try
        {
            using var pem = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(tls.CertificateFile, tls.KeyFile);
            // Kestrel needs the key in a form the platform can use: export and import once.
            return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(pem.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException)
        {
            throw new InvalidOperationException($"the TLS certificate {tls.CertificateFile} with key {tls.KeyFile} could not be loaded: {ex.Message}", ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed (error {ErrorId})")]
    private static partial void RequestFailed(ILogger logger, string method, string path, string errorId, Exception? exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "stopping the instances scaled away from {Set} failed")]
    private static partial void LogScaleDownFailed(ILogger logger, string set, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "API listening on {Address} (metrics and API description public: {Public})")]
    private static partial void ApiStarted(ILogger logger, Uri address, bool @public);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    private static partial void Insecure(ILogger logger, string warning);

    /// <summary>The ports the services listen on in every environment (and their previews): never an instance's.</summary>
    private static IEnumerable<int> ListenPorts(GantryManifest manifest) =>
        from service in manifest.Services
        from environment in manifest.Environments.Select(e => e.Name).DefaultIfEmpty(EffectiveService.DefaultEnvironmentOf(manifest))
        let spec = EffectiveService.For(manifest, service, environment)
        from endpoint in new[] { spec.Listen, (spec.Strategy as BlueGreenStrategy)?.PreviewListen }
        where endpoint is not null
        select endpoint.Port;

    private async Task<string> MetricsTextAsync(CancellationToken ct)
    {
        var text = new StringBuilder(await parts.Router.Metrics.TextAsync(TimeSpan.FromSeconds(30), ct));
        text.Append("# HELP gantry_rollout_info The newest rollout of each service and environment (value 1).\n# TYPE gantry_rollout_info gauge\n");
        foreach (var t in Reconciler.Targets)
        {
            text.Append(CultureInfo.InvariantCulture, $"gantry_rollout_info{{service=\"{t.State.Service}\",environment=\"{t.State.Environment}\",rollout=\"{t.State.Id}\",phase=\"{t.State.Phase}\",version=\"{t.State.Release.Version}\"}} 1\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"# HELP gantry_reconcile_passes_total Ticks of the reconcile loop.\n# TYPE gantry_reconcile_passes_total counter\ngantry_reconcile_passes_total {Reconciler.Passes}\n");
        text.Append(CultureInfo.InvariantCulture, $"# HELP gantry_reconcile_visits_total Targets visited (observed and decided for); at rest only the resync adds to it.\n# TYPE gantry_reconcile_visits_total counter\ngantry_reconcile_visits_total {Reconciler.Visits}\n");
        text.Append(CultureInfo.InvariantCulture, $"# HELP gantry_reconcile_reads_total Reads of the newest rollouts (the store's change mark moved, or a resync).\n# TYPE gantry_reconcile_reads_total counter\ngantry_reconcile_reads_total {Reconciler.Reads}\n");
        text.Append(CultureInfo.InvariantCulture, $"# HELP gantry_reconcile_routings_total Passes that planned the routes again.\n# TYPE gantry_reconcile_routings_total counter\ngantry_reconcile_routings_total {Reconciler.Routings}\n");
        text.Append(CultureInfo.InvariantCulture, $"# HELP gantry_reconcile_tables_total Tables sent to the router (a refused one again only after a back-off).\n# TYPE gantry_reconcile_tables_total counter\ngantry_reconcile_tables_total {Reconciler.Tables}\n");

        return text.ToString();
    }

    /// <summary>Stops the host (the API and the loops), then the instances, the router and the store, even when an earlier step fails (no instance outlives its server).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (app is not null)
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }
        }
        finally
        {
            try
            {
                parts.Notifiers.Dispose();
                parts.Http.Dispose();
            }
            finally
            {
                await parts.Runtime.DisposeAsync();
                await parts.Router.Owner.DisposeAsync();
                await parts.Store.DisposeAsync();
                await dataLock.DisposeAsync();
            }
        }
    }
}

