using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Proxy.Hosting;
using Gantry.Proxy.Metrics;
using Gantry.Runtime.Process;
using Gantry.Core.Analysis;
using Gantry.Server.Analysis;
using Gantry.Server.Analysis.Providers;
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
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Server;

/// <summary>
/// Where the control plane keeps its data and where its API listens: with <see cref="Tls"/> over HTTPS; the
/// metrics and the API's own description answered without a token when <see cref="PublicMetrics"/> says so
/// (by default only on a loopback address).
/// </summary>
public sealed record ServerOptions(string DataDirectory, Endpoint Listen, Access.AccessOptions? Access = null, ApiTls? Tls = null, bool? PublicMetrics = null)
{
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

/// <summary>
/// The embedded control plane: the SQLite store, the process runtime, the built-in router, the reconciler
/// and the REST API, in one process. Instances left by a server that was killed are stopped first; the
/// reconciler then brings back what the stored rollouts want.
/// </summary>
public sealed partial class GantryServer : IAsyncDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private readonly FileStream dataLock;
    private readonly SqliteStore store;
    private readonly ProcessRuntime runtime;
    private readonly Router router;
    private readonly AnalysisRuns analysis;
    private WebApplication? app;
    private HttpClient? providerHttp;
    private Task? loop;

    private GantryServer(FileStream dataLock, SqliteStore store, ProcessRuntime runtime, Router router, AnalysisRuns analysis, RolloutReconciler reconciler, RolloutService rollouts, Gates.GateService gates, Access.TokenService tokens)
    {
        Tokens = tokens;
        Gates = gates;
        this.dataLock = dataLock;
        this.store = store;
        this.runtime = runtime;
        this.router = router;
        this.analysis = analysis;
        Reconciler = reconciler;
        Rollouts = rollouts;
    }

    public RolloutReconciler Reconciler { get; }

    public RolloutService Rollouts { get; }

    public Gates.GateService Gates { get; }

    public Access.TokenService Tokens { get; }

    public Incidents.IncidentService Incidents { get; private init; } = null!;

    public Notifications.NotificationService Notifications { get; private init; } = null!;

    private NotifierSet? notifierSet;

    /// <summary>The local admin token (also in <c>DATA/admin.token</c>, mode 0600), for the embedded server's own machine.</summary>
    public string AdminToken { get; private set; } = string.Empty;

    public Router Router => router;

    public IRolloutStore Store => store;

    /// <summary>Every endpoint the server answers, with its metadata (the roles it requires), for the authorisation matrix.</summary>
    public IReadOnlyList<Microsoft.AspNetCore.Http.Endpoint> Endpoints =>
        app?.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints ?? [];

    /// <summary>The API's base address, for example <c>http://127.0.0.1:7700</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>How many instances of a killed predecessor were stopped at start.</summary>
    public int OrphansStopped { get; private set; }

    /// <summary>The mark this data directory's instances carry, so that a successor can find them.</summary>
    public static string OwnerOf(string dataDirectory) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory))))[..16];

    public static async Task<GantryServer> StartAsync(GantryManifest manifest, string manifestFolder, ServerOptions options, TimeProvider time, ILoggerFactory? loggers, CancellationToken ct)
    {
        loggers ??= NullLoggerFactory.Instance;
        // The data directory holds the local admin token and the values of secret variables: its owner's only.
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(options.DataDirectory);
        }
        else
        {
            Directory.CreateDirectory(options.DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var mode = File.GetUnixFileMode(options.DataDirectory);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"the data directory {options.DataDirectory} is open to other users (mode {Convert.ToString((int)mode, 8)}): it holds the admin token, the secret key and the database. Run 'chmod 700 {options.DataDirectory}'"));
            }
        }
        FileStream dataLock;
        try
        {
            dataLock = new FileStream(Path.Combine(options.DataDirectory, "server.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new InvalidOperationException($"another gantry server is using the data directory {options.DataDirectory}");
        }

        var owner = OwnerOf(options.DataDirectory);
        var orphans = await Orphans.StopAsync(owner, TimeSpan.FromSeconds(10), time, ct);
        var store = SqliteStore.Open(Path.Combine(options.DataDirectory, "gantry.db"), time, Storage.Secrets.SecretBox.ForDataDirectory(options.DataDirectory));
        var runtime = new ProcessRuntime(time, Path.Combine(options.DataDirectory, "logs"), owner, InstanceIsolation.ForServer(options.DataDirectory));
        if (Core.Runtime.RuntimeFit.Problems(runtime, manifest.Services) is [var problem, ..])
        {
            await runtime.DisposeAsync();
            await store.DisposeAsync();
            await dataLock.DisposeAsync();
            throw new InvalidOperationException(problem);
        }

        var router = new Router(time);
        var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) });
        var providers = new IMetricProvider[]
        {
            new BuiltinMetricProvider(router.Metrics),
            new PrometheusMetricProvider(http, time),
            new WebMetricProvider(http),
            new CommandMetricProvider(manifestFolder),
        }.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var analysis = new AnalysisRuns(time, providers, manifest, store);
        var checklists = new Checklists.ChecklistRuns(manifest, store, new Checklists.ChecklistChecks(http, manifestFolder, time), time);
        var reconciler = new RolloutReconciler(manifest, manifestFolder, store, runtime, new BuiltinTrafficRouter(router), analysis, checklists, time, loggers.CreateLogger<RolloutReconciler>());
        var gates = new Gates.GateService(manifest, store, time);
        var rollouts = new RolloutService(manifest, store, reconciler, runtime, analysis, gates, checklists, store, store, store, time);
        reconciler.StartQueued = rollouts.StartQueuedAsync;
        reconciler.ObserveApproval = rollouts.ApprovalStatusAsync;
        var notifiers = new NotifierSet(http, manifestFolder);
        var notifications = new Notifications.NotificationService(manifest, store, notifiers.ByKind, time, loggers.CreateLogger<Notifications.NotificationService>());
        var incidents = new Incidents.IncidentService(manifest, store, store, time) { Notify = notifications.ForIncident, Queued = notifications.Queued };
        var follower = new RolloutFollower(store, [incidents.ObserveAsync, notifications.RolloutAsync], loggers.CreateLogger<RolloutFollower>());
        reconciler.OnCommitted = follower.FollowAsync;
        reconciler.AfterPass = async token =>
        {
            // Catches up on commits not followed yet (after a crash, or a handler that failed).
            await reconciler.CommittedAsync(token);
            await rollouts.AutoPromoteAsync(token);
            await incidents.EscalateDueAsync(token);
        };
        var tokens = new Access.TokenService(manifest, store, time);
        var server = new GantryServer(dataLock, store, runtime, router, analysis, reconciler, rollouts, gates, tokens) { OrphansStopped = orphans, providerHttp = http, Incidents = incidents, Notifications = notifications, notifierSet = notifiers };
        notifications.Start();
        try
        {
            server.AdminToken = await tokens.EnsureLocalAdminAsync(options.DataDirectory, ct);
            await server.StartApiAsync(options, new Access.AccessControl(store, time, options.Access ?? new Access.AccessOptions()), time, loggers, ct);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        server.loop = Task.Run(() => reconciler.RunAsync(server.stopping.Token), CancellationToken.None);
        return server;
    }

    private async Task StartApiAsync(ServerOptions options, Access.AccessControl access, TimeProvider time, ILoggerFactory loggers, CancellationToken ct)
    {
        var listen = options.Listen;
        var log = loggers.CreateLogger<GantryServer>();
        var certificate = options.Tls is { } tls ? LoadCertificate(tls) : null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(time);
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
        web.UseExceptionHandler(errors => errors.Run(async context =>
        {
            // Malformed requests (bad JSON, wrong types) are the client's: 400, as problem+json.
            var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
            var status = error is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError;
            var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
            if (status == 500)
            {
                RequestFailed(log, context.Request.Method, context.Request.Path, id, error);
            }

            var detail = status == 500 ? $"the server failed (error {id}); its log has the details" : error?.GetBaseException().Message ?? "bad request";
            await Results.Problem(detail: detail, statusCode: status, title: status == 500 ? "Server error" : "Invalid request").ExecuteAsync(context);
        }));
        web.UseStatusCodePages(async status =>
        {
            if (status.HttpContext.Response.ContentType is null)
            {
                await Results.Problem(statusCode: status.HttpContext.Response.StatusCode, detail: $"{status.HttpContext.Request.Method} {status.HttpContext.Request.Path} is not part of the API").ExecuteAsync(status.HttpContext);
            }
        });
        web.UseRouting();
        access.Use(web);
        var open = new Access.PublicEndpoint();
        object described = options.MetricsArePublic ? open : new Access.Requires(Core.Access.Role.Viewer);
        web.MapOpenApi("/api/{documentName}/openapi.json").WithMetadata(described);
        web.MapGet("/health", () => Results.Text("ok\n")).WithMetadata(open);
        web.MapGet("/health/ready", () => Reconciler.Passes > 0
            ? Results.Text("ready\n")
            : Results.Problem(statusCode: 503, title: "Starting", detail: "the first reconcile pass has not finished")).WithMetadata(open);
        web.MapGet("/metrics", () => Results.Text(MetricsText(), PrometheusWriter.ContentType)).WithMetadata(described);
        ApiEndpoints.Map(web, Rollouts, store, runtime, Reconciler, Gates, store, store, Tokens, Incidents, store, store, store, time);
        await web.StartAsync(ct);
        app = web;
        Address = new Uri($"{(certificate is null ? "http" : "https")}://{listen}");
        ApiStarted(log, Address, options.MetricsArePublic);
        if (options.Warning is { } warning)
        {
            Insecure(log, warning);
        }
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

    [LoggerMessage(Level = LogLevel.Information, Message = "API listening on {Address} (metrics and API description public: {Public})")]
    private static partial void ApiStarted(ILogger logger, Uri address, bool @public);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Warning}")]
    private static partial void Insecure(ILogger logger, string warning);

    private string MetricsText()
    {
        var text = new StringBuilder(router.MetricsText(TimeSpan.FromSeconds(30)));
        text.Append("# HELP gantry_rollout_info The newest rollout of each service and environment (value 1).\n# TYPE gantry_rollout_info gauge\n");
        foreach (var t in Reconciler.Targets)
        {
            text.Append(CultureInfo.InvariantCulture, $"gantry_rollout_info{{service=\"{t.State.Service}\",environment=\"{t.State.Environment}\",rollout=\"{t.State.Id}\",phase=\"{t.State.Phase}\",version=\"{t.State.Release.Version}\"}} 1\n");
        }

        return text.ToString();
    }

    /// <summary>Stops the API and the loop, then the instances, the router and the store, even when an earlier step fails (no instance outlives its server).</summary>
    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        try
        {
            if (app is not null)
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }

            if (loop is not null)
            {
                await loop;
            }
        }
        finally
        {
            try
            {
                await analysis.DisposeAsync();
                await Rollouts.Checklists.DisposeAsync();
                if (Notifications is not null)
                {
                    await Notifications.DisposeAsync();
                }

                notifierSet?.Dispose();
                providerHttp?.Dispose();
            }
            finally
            {
                await runtime.DisposeAsync();
                await router.DisposeAsync();
                await store.DisposeAsync();
                await dataLock.DisposeAsync();
                stopping.Dispose();
            }
        }
    }
}

/// <summary>The notifiers of the embedded server, by kind.</summary>
internal sealed class NotifierSet(HttpClient http, string manifestFolder) : IDisposable
{
    private readonly Notifications.LogNotifier log = new(manifestFolder);

    public IReadOnlyDictionary<string, Core.Notifications.INotifier> ByKind => new Dictionary<string, Core.Notifications.INotifier>(StringComparer.Ordinal)
    {
        ["webhook"] = new Notifications.WebhookNotifier(http),
        ["slack"] = new Notifications.SlackNotifier(http),
        ["log"] = log,
    };

    public void Dispose() => log.Dispose();
}
