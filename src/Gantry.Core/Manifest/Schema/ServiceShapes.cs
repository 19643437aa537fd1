using static Gantry.Core.Manifest.Schema.ManifestShapes;

namespace Gantry.Core.Manifest.Schema;

/// <summary>
/// The shapes of a service's sections about its traffic and what runs around its rollouts. A class of its own: the
/// service shape reads them while <see cref="ManifestShapes"/> is being initialised, and a separate type is initialised
/// when first read, whatever the order of the files.
/// </summary>
public static class ServiceShapes
{
    public static readonly Shape Sticky = ManifestShapes.OneOf("sticky", "stickiness", "Which request value keeps a user on one side of the split: exactly one of cookie and header.",
        new Field("cookie", new StringType("a cookie name"), "A cookie the router sets on a user's first answer and hashes afterwards."),
        new Field("header", new StringType("a header name"), "A header the client sends (a user or session id) that the router hashes."));

    public static readonly Shape RateLimit = ManifestShapes.Object("rateLimit", "rate limit", "Requests per second each client address may send to the service's front door; past it, 429 with Retry-After.",
        new Field("requestsPerSecond", new IntegerType(1, 1_000_000), "Sustained requests per second per client address.", Required: true),
        new Field("burst", new IntegerType(1, 1_000_000), "Requests a client may send at once before the rate applies.", Default: "requestsPerSecond"));

    public static readonly Shape ServiceTls = ManifestShapes.Object("serviceTls", "TLS", "PEM files of the front door's certificate (with its chain) and private key, relative to the manifest; a change of either file is picked up for new connections without dropping open ones.",
        new Field("certificate", new StringType("a PEM file"), "The certificate, followed by its intermediates.", Required: true),
        new Field("key", new StringType("a PEM file"), "The private key.", Required: true));

    public static readonly Shape Job = ManifestShapes.Object("job", "job", "A one-shot command at a hook point of a rollout, run on the control plane's machine in the manifest's folder, with GANTRY_SERVICE, GANTRY_ENVIRONMENT, GANTRY_VERSION, GANTRY_PREVIOUS_VERSION, GANTRY_ROLLOUT, GANTRY_HOOK, GANTRY_ADDRESSES (the new release's ready instances) and the release's variables in its environment; its last lines are kept with the rollout.",
        new Field("at", ManifestShapes.Enum("preDeploy", "preTraffic", "postPromotion", "onAbort", "onRollback"), "When it runs: preDeploy before any instance of the new release starts (a failure stops the rollout), preTraffic once its first instances are ready and before they get traffic (a failure aborts), postPromotion once it has all traffic (a failure fails the watch), onAbort after an abort or failure, onRollback after a rollback.", Required: true),
        new Field("args", new ListType(Text, 1), "Program and arguments, one item each; with image, the container's arguments (after its entrypoint)."),
        new Field("image", new StringType("an image reference"), "Run the job as a container of the Docker engine (DOCKER_HOST) on host networking, removed when it ends; {version}, {service} and {environment} are filled in. Without it, a command on the control plane's machine."),
        new Field("shell", ManifestShapes.Boolean, "Run through /bin/sh -c (the items are joined); commands only.", Default: "false"),
        new Field("env", new MapType(Text, EnvName), "Environment variables added to the job's environment."),
        new Field("timeout", Duration, "How long one try may run before it is killed.", Default: "5m"),
        new Field("retries", new IntegerType(0, 10), "Tries after a failed one.", Default: "0"));

    public static readonly Shape Watch = ManifestShapes.Object("watch", "watch after promotion", "Once the release has all traffic, the rollout is Watching for this long: the analysis templates run and the previous release is kept running out of traffic, so a rollback is instant; the rollout succeeds when the window ends.",
        new Field("for", Duration, "How long to watch.", Required: true),
        new Field("templates", new ListType(Name), "Analysis templates run for the whole window; the release's own instances crashing also fails the watch."),
        new Field("onFailure", ManifestShapes.Enum("rollback", "incident", "hold"), "What a failed watch does: rollback (all traffic back to the previous release at once), incident (keep the release, open an incident for it), hold (keep the release, pause for a person: abort rolls back, resume watches again).", Default: "rollback"));

    public static readonly Shape BurnRateAlert = ManifestShapes.Object("burnRateAlert", "burn-rate alert", "Fires while the error budget burns at least burnRate times as fast as the objective allows over both windows (a multiwindow, multi-burn-rate alert of the Google SRE workbook).",
        new Field("long", ManifestShapes.Duration, "The long window: how much burning it takes.", Required: true),
        new Field("short", ManifestShapes.Duration, "The short window: that it still burns now, so the alert ends soon after the burning does.", Required: true),
        new Field("burnRate", new NumberType(1, 1000), "How many times the allowed rate (14.4 over 1h spends 2% of a 30-day budget).", Required: true),
        new Field("severity", ManifestShapes.Enum("P0", "P1", "P2", "P3"), "The severity of the incident it opens.", Default: "the objective's severity"));

    public static readonly Shape Slo = ManifestShapes.Object("slo", "service level objective", "A standing objective of the running service, measured at the router over all its releases: the share of good requests over the period should be at least the objective. Burn-rate alerts open an incident (and may roll back a recent release).",
        new Field("sli", ManifestShapes.Enum("availability", "latency"), "What a good request is: availability (answered, not with a 5xx; an error-rate objective is 1 minus the rate) or latency (answered within threshold; 99% within 300ms is a p99 objective).", Default: "availability"),
        new Field("objective", new PercentType(0, 100), "The share of good requests, such as 99.9%.", Required: true),
        new Field("threshold", ManifestShapes.Duration, "For latency: how fast a good request is answered."),
        new Field("period", ManifestShapes.Duration, "The period the objective and its error budget are over.", Default: "30d"),
        new Field("severity", ManifestShapes.Enum("P0", "P1", "P2", "P3"), "The severity of the incidents its alerts open.", Default: "P2"),
        new Field("alerts", new ListType(new ObjectType(BurnRateAlert), 1), "Burn-rate alerts.", Default: "1h and 5m at 14.4x, 6h and 30m at 6x (the SRE workbook's paging alerts for 30 days)"),
        new Field("rollbackWithin", ManifestShapes.Duration, "When an alert fires, roll back the newest release if it reached the environment this recently."));
}
