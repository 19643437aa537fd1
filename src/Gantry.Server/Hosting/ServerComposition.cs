using Gantry.Core.Analysis;
using Gantry.Core.Runtime;
using Gantry.Core.Traffic;
using Gantry.Server.Analysis;
using Gantry.Server.Analysis.Providers;
using Gantry.Server.Checklists;
using Gantry.Server.Incidents;
using Gantry.Server.Notifications;
using Gantry.Server.Reconciler;
using Gantry.Server.Rollouts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gantry.Server.Hosting;

/// <summary>
/// The parts of the control plane whose lifetime the server manages itself (opened before the host, closed after
/// it, in a fixed order): the store, the runtime, the router (in this process or its own) with its measurements, the
/// HTTP client of providers and notifiers.
/// </summary>
public sealed record ControlPlaneParts(GantryManifest Manifest, string ManifestFolder, Storage.Sql.SqlStore Store, IRuntime Runtime, RouterParts Router, HttpClient Http, NotifierSet Notifiers)
{
    /// <summary>How often the reconciler visits every target even if nothing said it changed.</summary>
    public TimeSpan Resync { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>The router the control plane drives, its measurements, and what to dispose when the control plane stops.</summary>
public sealed record RouterParts(ITrafficRouter Traffic, Proxy.Metrics.IRouterMetrics Metrics, IAsyncDisposable Owner);

/// <summary>
/// The one composition root: every service of the control plane, registered once, collaborating through
/// interfaces; the loops around the rollout (reconciler, commit following, notification outbox, queued deploys,
/// automatic promotion, escalation) are hosted services of the generic host.
/// </summary>
public static class ServerComposition
{
    public static IServiceCollection AddGantryControlPlane(this IServiceCollection services, ControlPlaneParts parts, Access.AccessOptions access, Cluster.Leadership? leadership = null)
    {
        leadership ??= Cluster.Leadership.Alone();
        services.AddSingleton(leadership);
        services.AddSingleton(parts.Manifest);
        services.AddSingleton(new ManifestContext(parts.Manifest, parts.ManifestFolder));
        AddStore(services, parts.Store);
        services.AddSingleton(parts.Runtime);
        services.AddSingleton(parts.Router);
        // Among replicas, tables go through the store to every replica's router (a router of its own on each machine).
        // Alone, the router itself, given as an instance: the server disposes it (RouterParts.Owner), not the container.
        if (leadership.Clustered)
        {
            services.TryAddSingleton<ITrafficRouter>(sp => new Cluster.FleetRouter(parts.Router.Traffic, parts.Store, leadership, sp.GetRequiredService<TimeProvider>()));
        }
        else
        {
            services.TryAddSingleton(parts.Router.Traffic);
        }

        services.AddSingleton(sp => new DataPlane(sp.GetRequiredService<IRuntime>(), sp.GetRequiredService<ITrafficRouter>(), sp.GetRequiredService<IMaintenanceStore>()));
        services.AddSingleton<IReadOnlyDictionary<string, IMetricProvider>>(sp => new IMetricProvider[]
        {
            new BuiltinMetricProvider(parts.Router.Metrics, parts.Runtime),
            new PrometheusMetricProvider(parts.Http, sp.GetRequiredService<TimeProvider>()),
            new WebMetricProvider(parts.Http),
            new CommandMetricProvider(parts.ManifestFolder),
        }.ToDictionary(p => p.Name, StringComparer.Ordinal));
        services.AddSingleton(sp => new AnalysisRuns(sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IReadOnlyDictionary<string, IMetricProvider>>(), parts.Manifest, parts.Store));
        services.AddSingleton(sp => new ChecklistChecks(parts.Http, parts.ManifestFolder, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ChecklistRuns>();
        services.AddSingleton(parts.Notifiers.ByKind);

        services.AddSingleton(_ => new ReconcilerSignals { Fence = () => leadership.Fence, Resync = parts.Resync });
        services.AddSingleton<ApprovalService>();
        services.AddSingleton<IApprovalSource>(sp => sp.GetRequiredService<ApprovalService>());
        services.AddSingleton(sp => new Jobs.JobRuns(parts.ManifestFolder, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Jobs.JobRuns>>()));
        services.AddSingleton(sp => new RolloutObservers(sp.GetRequiredService<AnalysisRuns>(), sp.GetRequiredService<ChecklistRuns>(), sp.GetRequiredService<IApprovalSource>(), sp.GetRequiredService<Jobs.JobRuns>()));
        services.AddSingleton<RolloutReconciler>();

        services.AddSingleton<Gates.GateService>();
        services.AddSingleton<AdmissionGate>();
        services.AddSingleton<RolloutCreator>();
        services.AddSingleton<DeployService>();
        services.AddSingleton<CommandService>();
        services.AddSingleton<ChecklistService>();
        services.AddSingleton<FreezeService>();
        services.AddSingleton<MaintenanceService>();
        services.AddSingleton(sp => new Cluster.InstanceMirror(sp.GetRequiredService<IRuntime>(), parts.Store, leadership, sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService(sp => sp.GetRequiredService<Cluster.InstanceMirror>());
        services.AddSingleton<RolloutViews>();
        services.AddSingleton<Access.TokenService>();
        services.AddSingleton(sp => new Access.AccessControl(parts.Store, sp.GetRequiredService<TimeProvider>(), access));

        services.AddSingleton<NotificationService>();
        services.AddSingleton<IIncidentNotifier>(sp => sp.GetRequiredService<NotificationService>());
        services.AddSingleton<IncidentService>();
        services.AddSingleton<AlertIntakeService>();
        services.AddSingleton(sp => new Slo.SloWatcher(parts.Manifest, sp.GetRequiredService<RolloutReconciler>(), parts.Router.Metrics, sp.GetRequiredService<AlertIntakeService>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Slo.SloWatcher>>()));
        // Incidents first: the notification of an incident is written with it; then the rollout's own notifications.
        services.AddSingleton<ICommitHandler>(sp => sp.GetRequiredService<IncidentService>());
        services.AddSingleton<ICommitHandler>(sp => sp.GetRequiredService<NotificationService>());
        services.AddSingleton<RolloutFollower>();

        if (leadership.Clustered)
        {
            AddLeaderOnlyLoops(services, leadership);
            return services;
        }

        services.AddHostedService(sp => sp.GetRequiredService<NotificationService>());
        services.AddHostedService(sp => sp.GetRequiredService<ChecklistRuns>());
        services.AddHostedService<ReconcilerLoop>();
        services.AddHostedService<CommitFollowing>();
        services.AddHostedService<QueueStarter>();
        services.AddHostedService<AutoPromotion>();
        services.AddHostedService<Escalation>();
        services.AddHostedService<OrphanSweeper>();
        services.AddHostedService<SloLooks>();
        return services;
    }

    /// <summary>
    /// Replicas on one store: the feed of this machine's router (on every replica), the elector (stopped last but
    /// one, so the lease is given up only once the loops have stopped), then the loops that act on shared state, run
    /// while this replica leads; the runtime lets go of its instances when it stops leading.
    /// </summary>
    private static void AddLeaderOnlyLoops(IServiceCollection services, Cluster.Leadership leadership)
    {
        services.AddSingleton(sp => new Cluster.RouterFeed(sp.GetRequiredService<RouterParts>().Traffic, sp.GetRequiredService<Core.Cluster.IFleetStore>(), leadership, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Cluster.RouterFeed>>()));
        services.AddHostedService(sp => sp.GetRequiredService<Cluster.RouterFeed>());
        services.AddHostedService(sp => new Cluster.LeaderElector(sp.GetRequiredService<Core.Cluster.ILeaseStore>(), leadership, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Cluster.LeaderElector>>()));
        services.AddHostedService(sp => new Cluster.LeaderOnlyServices(leadership,
        [
            new Cluster.RuntimeCustody(sp.GetRequiredService<IRuntime>()),
            sp.GetRequiredService<NotificationService>(),
            sp.GetRequiredService<ChecklistRuns>(),
            ActivatorUtilities.CreateInstance<ReconcilerLoop>(sp),
            ActivatorUtilities.CreateInstance<CommitFollowing>(sp),
            ActivatorUtilities.CreateInstance<QueueStarter>(sp),
            ActivatorUtilities.CreateInstance<AutoPromotion>(sp),
            ActivatorUtilities.CreateInstance<Escalation>(sp),
            ActivatorUtilities.CreateInstance<OrphanSweeper>(sp),
            ActivatorUtilities.CreateInstance<SloLooks>(sp),
        ], sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Cluster.LeaderOnlyServices>>()));
    }

    /// <summary>The store is one object behind every repository interface.</summary>
    private static void AddStore(IServiceCollection services, Storage.Sql.SqlStore store)
    {
        services.AddSingleton(store);
        services.AddSingleton<IRolloutStore>(store);
        services.AddSingleton<IReleaseStore>(store);
        services.AddSingleton<Core.Analysis.IAnalysisStore>(store);
        services.AddSingleton<Core.Gates.IGateStore>(store);
        services.AddSingleton<Core.Checklists.IChecklistStore>(store);
        services.AddSingleton<Core.Audit.IAuditStore>(store);
        services.AddSingleton<Core.Policies.IFreezeStore>(store);
        services.AddSingleton<Core.Access.ITokenStore>(store);
        services.AddSingleton<Core.Approvals.IApprovalStore>(store);
        services.AddSingleton<Core.Incidents.IIncidentStore>(store);
        services.AddSingleton<Core.Dora.IDoraStore>(store);
        services.AddSingleton<Core.Notifications.IDeliveryStore>(store);
        services.AddSingleton<IMaintenanceStore>(store);
        services.AddSingleton<Core.Cluster.ILeaseStore>(store);
        services.AddSingleton<Core.Cluster.IFleetStore>(store);
    }
}
