namespace Gantry.Core.Manifest.Schema;

/// <summary>
/// Every key a manifest may hold, with its type and meaning. The reader refuses keys that are not
/// here and reads only keys that are; <c>docs/schema/gantry.schema.json</c> is generated from it.
/// </summary>
public static partial class ManifestShapes
{
    internal static readonly DurationType Duration = new();
    internal static readonly BooleanType Boolean = new();
    internal static readonly StringType Text = new();
    internal static readonly NameType Name = new();
    internal static readonly StringType EnvName = new("a variable name of letters, digits and '_'");

    internal static Shape Object(string name, string title, string description, params Field[] fields) =>
        new(name, title, description, [.. fields]);

    internal static Shape OneOf(string name, string title, string description, params Field[] fields) =>
        new(name, title, description, [.. fields], ExactlyOne: true);

    internal static EnumType Enum(params string[] values) => new([.. values]);

    public static readonly Shape AnalysisRef = Object("analysisRef", "analysis reference", "Runs analysis templates defined under the top-level 'analysis'.",
        new Field("templates", new ListType(Name, 1), "Names of analysis templates to run together.", Required: true),
        new Field("onFailure", Enum("abort", "hold"), "What a failed analysis does: abort (all traffic back to stable) or hold (keep the current split and pause for a person, for releases that cannot go back).", Default: "abort"));

    public static readonly Shape Probe = Object("probe", "probe", "An HTTP GET against the instance; 2xx and 3xx pass.",
        new Field("path", new StringType("a path starting with /"), "Path to request, such as /health/ready.", Required: true),
        new Field("interval", Duration, "Time between probes.", Default: "2s"),
        new Field("timeout", Duration, "How long one probe may take.", Default: "1s"),
        new Field("failureThreshold", new IntegerType(1, 100), "Consecutive failures that mark the instance failed.", Default: "3"),
        new Field("initialDelay", Duration, "Wait before the first probe.", Default: "0s"));

    public static readonly Shape Health = Object("health", "health checks", "Probes of each instance.",
        new Field("readiness", new ObjectType(Probe), "Whether an instance may receive traffic."),
        new Field("liveness", new ObjectType(Probe), "Whether a running instance must be restarted."),
        new Field("startup", new ObjectType(Probe), "Holds readiness and liveness until the instance has started."));

    public static readonly Shape Process = Object("process", "process", "Runs each instance as a local child process. Texts may use {version}, {port}, {service}, {environment} and {instance}.",
        new Field("command", new StringType("a program to run"), "Program to run, such as dotnet.", Required: true),
        new Field("args", new ListType(Text), "Arguments, one list item each (no shell)."),
        new Field("env", new MapType(Text, EnvName), "Environment variables added to the instance's environment."),
        new Field("workingDir", Text, "Working directory; relative paths are relative to the manifest's folder.", Default: "the manifest's folder"),
        new Field("stopTimeout", Duration, "Time between SIGTERM and killing the process tree.", Default: "10s"),
        new Field("runAs", new StringType("a user name"), "The user instances run as when the server runs as root (never root itself).", Default: "gantry-instance, created when missing"));

    public static readonly Shape Retain = Object("retain", "retained releases", "The containers of the last releases that left traffic are kept, so that 'gantry rollback' to one of them starts it rather than creating it (their images are never cleaned up while kept).",
        new Field("releases", new IntegerType(0, 20), "How many earlier releases are kept.", Required: true),
        new Field("for", Duration, "How long a release is kept after it left traffic.", Default: "24h"),
        new Field("warm", Boolean, "Keep them running (not routed) rather than stopped: a rollback is then only a switch.", Default: "false"));

    public static readonly Shape Docker = Object("docker", "docker", "Runs each instance as a container of the Docker engine (DOCKER_HOST, or its default socket) on host networking, listening on the port Gantry gives it. Texts may use {version}, {port}, {service}, {environment} and {instance}.",
        new Field("image", new StringType("an image reference"), "The image, such as registry.example/shop:{version}.", Required: true),
        new Field("command", new StringType("a program in the image"), "The program to run in place of the image's entrypoint.", Default: "the image's entrypoint"),
        new Field("args", new ListType(Text), "Arguments given to the entrypoint (or command), one list item each."),
        new Field("env", new MapType(Text, EnvName), "Environment variables of the container."),
        new Field("stopTimeout", Duration, "Time between SIGTERM and killing the container.", Default: "10s"),
        new Field("memory", new IntegerType(4, 1_048_576), "Memory limit in MiB; the engine kills a container past it (OOMKilled)."),
        new Field("cpus", new NumberType(0.01, 1024), "CPU limit, in cores."),
        new Field("pids", new IntegerType(8, 1_000_000), "The most processes and threads the container may have."),
        new Field("volumes", new ListType(new StringType("SOURCE:/TARGET or SOURCE:/TARGET:ro")), "Mounts: a host path (relative to the manifest's folder) or a named volume, then the absolute path in the container, then ':ro' for read-only."),
        new Field("readOnly", Boolean, "The image's file system is read-only; /tmp is a small writable tmpfs.", Default: "false"),
        new Field("user", new StringType("UID[:GID] or a user name"), "Who the container runs as; never root.", Default: "65534:65534 (nobody)"),
        new Field("stopSignal", Enum("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH"), "The signal that asks the container to stop; it is killed after stopTimeout.", Default: "SIGTERM"),
        new Field("retain", new ObjectType(Retain), "Keep the containers of earlier releases for an instant rollback."));

    public static readonly Shape Placement = Object("placement", "placement", "Where a swarm service's tasks run and how they spread over nodes.",
        new Field("constraints", new ListType(new StringType("a constraint such as node.labels.zone==a")), "Swarm placement constraints, all of which a node must meet (node.role, node.hostname, node.labels.NAME, engine.labels.NAME with == or !=)."),
        new Field("spread", new ListType(new StringType("a node label such as node.labels.zone")), "Spread each set's tasks evenly over the values of these node labels, in order."),
        new Field("maxPerNode", new IntegerType(1, 99), "The most tasks of one set on one node.", Default: "no limit"));

    public static readonly Shape Swarm = Object("swarm", "swarm", "Runs each release set as a service of a Docker Swarm (DOCKER_HOST names a manager) on host networking: each task listens on the port of its slot, given as {port} in 'env' (the engine fills it in per task; Gantry reaches it at its node's address). Keys as for docker, and placement.",
        [.. Docker.Fields.Where(f => f.Key is not ("retain" or "args" or "volumes")),
         new Field("args", new ListType(Text), "Arguments given to the entrypoint (or command), one list item each; they may not use {port}, which differs per task: give it in 'env'."),
         new Field("volumes", new ListType(new StringType("VOLUME:/TARGET or VOLUME:/TARGET:ro")), "Named volumes of each node's engine mounted into the tasks (host paths differ between nodes)."),
         new Field("placement", new ObjectType(Placement), "Constraints and spread over nodes.")]);

    public static readonly Shape Variables = Object("variables", "variables", "What deploys may set on instances with --set and --secret.",
        new Field("allow", new ListType(new StringType("a variable name, or a prefix ending in *")), "Loader, runtime and shell variables (LD_*, DOTNET_*, PATH, ...) that deploys may set after all; refused otherwise."));

    public static readonly Shape Rolling = Object("rolling", "rolling update", "Replaces instances in batches, each new one health-gated before an old one stops.",
        new Field("maxSurge", new CountOrPercentType(), "Instances allowed above the desired count during the update.", Default: "1"),
        new Field("maxUnavailable", new CountOrPercentType(), "Instances allowed below the desired count during the update.", Default: "0"));

    public static readonly Shape BlueGreen = Object("blueGreen", "blue-green", "Starts the new set beside the old one and switches all traffic at once.",
        new Field("previewListen", new EndpointType(), "Where the new set is served before promotion."),
        new Field("autoPromotion", Boolean, "Promote without a human once the new set is healthy and analysis passed.", Default: "true"),
        new Field("autoPromotionSeconds", new IntegerType(0, 86_400), "Seconds to wait before automatic promotion.", Default: "0"),
        new Field("scaleDownDelay", Duration, "How long the old set is kept after the switch, for instant rollback.", Default: "30s"),
        new Field("prePromotionAnalysis", new ObjectType(AnalysisRef), "Analysis against the preview before the switch."),
        new Field("postPromotionAnalysis", new ObjectType(AnalysisRef), "Analysis after the switch; failure switches back."));

    public static readonly Shape RouteMatch = Object("routeMatch", "route match", "Matches a request by one header or cookie: exactly one of header/cookie and one of exact/prefix/regex.",
        new Field("header", Text, "Header name to match."),
        new Field("cookie", Text, "Cookie name to match."),
        new Field("exact", Text, "The value must equal this."),
        new Field("prefix", Text, "The value must start with this."),
        new Field("regex", Text, "The value must match this .NET regular expression."));

    public static readonly Shape Pause = Object("pause", "pause", "Waits for a duration, or until promoted when no duration is given.",
        new Field("duration", Duration, "How long to wait; omit to wait for 'gantry promote'."));

    public static readonly Shape HeaderRoute = Object("setHeaderRoute", "header route", "Sends matching requests to the canary whatever its weight.",
        new Field("match", new ListType(new ObjectType(RouteMatch)), "Matches, all of which must hold; empty removes the route."));

    public static readonly Shape Mirror = Object("setMirror", "mirror", "Copies a share of requests to the canary; responses are discarded.",
        new Field("percent", new WeightType(), "Share of requests to copy; 0 removes the mirror.", Required: true),
        new Field("match", new ListType(new ObjectType(RouteMatch)), "Only copy requests that match all of these."));

    public static readonly Shape CanaryStep = OneOf("canaryStep", "canary step", "One step: exactly one of setWeight, pause, analysis, setHeaderRoute, setMirror.",
        new Field("setWeight", new WeightType(), "Share of traffic for the canary; weights never decrease, and 100 completes the rollout."),
        new Field("pause", new OneOfType([Duration, new ObjectType(Pause)]), "Wait: 'pause: 30s', or 'pause: {}' until promoted."),
        new Field("analysis", new ObjectType(AnalysisRef), "Run analysis; failure aborts the rollout."),
        new Field("setHeaderRoute", new ObjectType(HeaderRoute), "Route matching requests to the canary."),
        new Field("setMirror", new ObjectType(Mirror), "Mirror a share of requests to the canary."));

    public static readonly Shape BackgroundAnalysis = Object("backgroundAnalysis", "background analysis", "Analysis that runs beside the steps until the rollout ends; a failure aborts it whatever step it is at.",
        new Field("templates", new ListType(Name, 1), "Names of analysis templates to run together; a template without 'count' measures until the rollout ends.", Required: true),
        new Field("onFailure", Enum("abort", "hold"), "What a failed analysis does: abort (all traffic back to stable) or hold (keep the current split and pause for a person).", Default: "abort"),
        new Field("startingStep", new IntegerType(0, 1000), "Index of the step (0 = the first) from which the analysis runs, as in Argo Rollouts.", Default: "0"));

    public static readonly Shape Canary = Object("canary", "canary", "Shifts traffic to the new version step by step; the stable set stays at full size.",
        new Field("steps", new ListType(new ObjectType(CanaryStep), 1), "The ordered steps.", Required: true),
        new Field("abortScaleDownDelay", Duration, "How long an aborted canary is kept before it is stopped.", Default: "30s"),
        new Field("analysis", new ObjectType(BackgroundAnalysis), "Analysis in the background of the whole rollout."),
        new Field("baseline", Enum("stable", "fresh"), "What analysis compares the canary with: the stable set, or a fresh set of the stable release started at the canary's size and given the same weight (like for like; weights above 50 then give the baseline the rest).", Default: "stable"));

    public static readonly Shape Strategy = OneOf("strategy", "strategy", "How a new release replaces the old one: exactly one of rolling, blueGreen, canary.",
        new Field("rolling", new ObjectType(Rolling), "Rolling update."),
        new Field("blueGreen", new ObjectType(BlueGreen), "Blue-green switch."),
        new Field("canary", new ObjectType(Canary), "Canary with steps."));

    public static readonly Shape Service = Object("service", "service", "A deployable unit: how to run an instance, where its traffic arrives, how it is checked and rolled out.",
        new Field("process", new ObjectType(Process), "A runtime section: run instances as local processes (the process runtime). A service has exactly one of process, docker and swarm."),
        new Field("docker", new ObjectType(Docker), "A runtime section: run instances as containers of the Docker engine."),
        new Field("swarm", new ObjectType(Swarm), "A runtime section: run each release set as a service of a Docker Swarm, its tasks spread over the swarm's nodes."),
        new Field("listen", new EndpointType(Schemes: true), "The router's front door for this service; https://ADDRESS serves it over TLS (needs 'tls').", Required: true),
        new Field("replicas", new IntegerType(1, 100), "Instances of the stable version.", Default: "1"),
        new Field("health", new ObjectType(Health), "Readiness, liveness and startup probes."),
        new Field("strategy", new ObjectType(Strategy), "How releases are rolled out.", Default: "rolling with maxSurge 1, maxUnavailable 0"),
        new Field("progressDeadline", Duration, "A rollout that makes no progress for this long fails.", Default: "10m"),
        new Field("drain", Duration, "How long instances taken out of traffic keep running before they are stopped; the router lets their requests finish until they are gone (drain plus the runtime's stop timeout).", Default: "2s"),
        new Field("variables", new ObjectType(Variables), "What deploys may set on instances."),
        new Field("sticky", new ObjectType(ServiceShapes.Sticky), "Keep each user on one side of a canary's split while its weight grows."),
        new Field("rateLimit", new ObjectType(ServiceShapes.RateLimit), "Limit each client address's requests at the router."),
        new Field("tls", new ObjectType(ServiceShapes.ServiceTls), "The front door's certificate: clients speak HTTPS, and HTTP/2 where they offer it."),
        new Field("jobs", new MapType(new ObjectType(ServiceShapes.Job), Name), "Named one-shot commands at hook points of a rollout: migrations, backups, smoke tests, down-migrations."),
        new Field("watch", new ObjectType(ServiceShapes.Watch), "Watch the release after it took all traffic, for every strategy."),
        new Field("slos", new MapType(new ObjectType(ServiceShapes.Slo), Name), "Standing service level objectives, by name, with burn-rate alerts."));

    public static readonly Shape BuiltinQuery = Object("builtinQuery", "builtin query", "The router's own measurements of the group under analysis.",
        new Field("query", Enum("request_rate", "error_rate", "success_rate", "latency_p50", "latency_p90", "latency_p95", "latency_p99", "latency", "cpu", "memory"), "What to measure; 'latency' gives raw samples for the judge; 'cpu' (a share of the CPU limit, or of one core) and 'memory' (MiB) are the instances' own use now, read from a runtime that measures it (docker).", Required: true),
        new Field("window", Duration, "How far back to measure.", Default: "the template's interval"));

    public static readonly Shape PrometheusQuery = Object("prometheusQuery", "Prometheus query", "A PromQL query over Prometheus's HTTP API; {service}, {environment}, {group} (canary or baseline), {version} and {set} (the router's backend group: the version, or VERSION~baseline for a fresh baseline) are filled in.",
        new Field("address", new UrlType(), "Base URL of the Prometheus server.", Required: true),
        new Field("query", new StringType("a PromQL query"), "The PromQL query; it must return one number.", Required: true),
        new Field("timeout", Duration, "How long a query may take.", Default: "5s"));

    public static readonly Shape WebQuery = Object("webQuery", "web query", "An HTTP GET returning JSON, with a path picking the value.",
        new Field("url", new UrlType(), "URL to get; {service}, {environment}, {group}, {version} and {set} are filled in.", Required: true),
        new Field("jsonPath", new StringType("a JSON path such as $.data.value"), "Path of the number in the JSON answer, such as $.data.value.", Required: true),
        new Field("headers", new MapType(Text, Text), "Request headers."),
        new Field("timeout", Duration, "How long the request may take.", Default: "5s"));

    public static readonly Shape CommandQuery = Object("commandQuery", "command query", "Runs a program and reads a number from its output or its exit code.",
        new Field("args", new ListType(Text, 1), "Program and arguments, one item each.", Required: true),
        new Field("shell", Boolean, "Run through /bin/sh -c (the items are joined).", Default: "false"),
        new Field("value", Enum("stdout", "exitCode"), "Read the number from standard output or take the exit code.", Default: "stdout"),
        new Field("timeout", Duration, "How long the program may run.", Default: "30s"));

    public static readonly Shape Provider = OneOf("provider", "metric provider", "Where the metric comes from: exactly one of builtin, prometheus, web, command.",
        new Field("builtin", new ObjectType(BuiltinQuery), "Router measurements."),
        new Field("prometheus", new ObjectType(PrometheusQuery), "Prometheus."),
        new Field("web", new ObjectType(WebQuery), "HTTP JSON."),
        new Field("command", new ObjectType(CommandQuery), "A local program."));

    public static readonly Shape Judge = Object("judge", "judge", "Statistical comparison of canary and baseline. method fixed: each look's samples on their own, the whole distribution (Mann-Whitney U, Hodges-Lehmann interval) for 'latency' and Prometheus series, the percentile itself (bootstrap interval) for latency_p50 to latency_p99. method sequential: everything seen so far, with time-uniform bands for latencies and e-values for error_rate and success_rate counts, so that a healthy canary fails with probability at most alpha however often it is looked at.",
        new Field("method", Enum("fixed", "sequential"), "fixed: a fixed-horizon test at every look (false alarms add up over looks); sequential: anytime-valid.", Default: "fixed"),
        new Field("alpha", new NumberType(0.0001, 0.5), "For method sequential: the probability of failing a healthy canary over the whole rollout.", Default: "0.05"),
        new Field("direction", Enum("increase", "decrease", "either"), "Which change is bad.", Default: "increase"),
        new Field("confidence", new NumberType(0.5, 0.9999), "For method fixed: confidence of the test and of its interval.", Default: "0.98"),
        new Field("allowedIncrease", new PercentType(0, 10_000), "A change smaller than this passes even when significant (for error counts: a rate ratio, such as 20% for 1.2 times the baseline's)."),
        new Field("criticalIncrease", new PercentType(0, 10_000), "A change larger than this fails the whole analysis."),
        new Field("tolerance", new DurationType(), "For latency: a shift smaller than this never fails, however significant (a cold canary is often a fraction of a millisecond slower)."),
        new Field("mustHaveData", Boolean, "For method fixed: no data is a failure rather than NoData (the sequential judge waits instead).", Default: "true"),
        new Field("outliers", Enum("keep", "remove"), "For method fixed: remove outliers (beyond 3 interquartile ranges) before comparing; never for a percentile.", Default: "keep"),
        new Field("weight", new NumberType(0, 1000), "Weight of this metric in the score.", Default: "1"),
        new Field("critical", Boolean, "A failure of this metric fails the analysis whatever the score.", Default: "false"));

    public static readonly Shape Metric = Object("metric", "metric", "One measurement and how it is judged.",
        new Field("name", Name, "Name of the metric, unique in its template.", Required: true),
        new Field("provider", new ObjectType(Provider), "Where the value comes from.", Required: true),
        new Field("failWhen", new ConditionType(), "The measurement fails when this holds."),
        new Field("passWhen", new ConditionType(), "The measurement passes only when this holds."),
        new Field("dryRun", Boolean, "Measure and report, but never fail the run.", Default: "false"),
        new Field("judge", new ObjectType(Judge), "Judge canary against baseline statistically."));

    public static readonly Shape Scores = Object("scores", "score thresholds", "Thresholds on the weighted score of judged metrics (0-100).",
        new Field("pass", new NumberType(0, 100), "Score at or above which a judgement passes.", Default: "95"),
        new Field("marginal", new NumberType(0, 100), "Score at or above which a judgement is marginal.", Default: "75"));

    public static readonly Shape AnalysisTemplate = Object("analysisTemplate", "analysis template", "Periodic measurements judged against conditions or a baseline.",
        new Field("interval", Duration, "Time between measurements.", Default: "10s"),
        new Field("count", new IntegerType(1, 100_000), "Number of measurements; unlimited in background analysis."),
        new Field("initialDelay", Duration, "Wait before the first measurement.", Default: "0s"),
        new Field("failureLimit", new IntegerType(-1, 100_000), "Failed measurements tolerated before the run fails; -1: failures alone never fail it (with consecutiveSuccessLimit: a streak is required).", Default: "0"),
        new Field("inconclusiveLimit", new IntegerType(0, 100_000), "Inconclusive measurements tolerated before the run is inconclusive.", Default: "0"),
        new Field("consecutiveErrorLimit", new IntegerType(0, 100_000), "Consecutive query errors tolerated before the run errors.", Default: "4"),
        new Field("consecutiveSuccessLimit", new IntegerType(1, 100_000), "Consecutive successes the metric needs: reached, it succeeds (early); not reached by count, it is Inconclusive (Failed with failureLimit -1)."),
        new Field("scores", new ObjectType(Scores), "Score thresholds for judged metrics."),
        new Field("metrics", new ListType(new ObjectType(Metric), 1), "The metrics.", Required: true));

    public static readonly Shape ServiceOverride = Object("serviceOverride", "service override", "Changes to a service in one environment.",
        new Field("replicas", new IntegerType(1, 100), "Instances in this environment."),
        new Field("env", new MapType(Text, EnvName), "Environment variables added or replaced."),
        new Field("strategy", new ObjectType(Strategy), "Strategy in this environment."),
        new Field("listen", new EndpointType(), "This environment's own front door for the service (environments on one host cannot share one)."),
        new Field("process", new ObjectType(Process), "This environment's runtime section in place of the service's: local processes."),
        new Field("docker", new ObjectType(Docker), "This environment's runtime section in place of the service's: containers (say, production on Docker, development as processes)."),
        new Field("swarm", new ObjectType(Swarm), "This environment's runtime section in place of the service's: a service of a Docker Swarm."));

    public static readonly Shape Approvals = Object("approvals", "approvals", "Approvals a rollout needs before it starts.",
        new Field("required", new IntegerType(1, 20), "How many approvals.", Default: "1"),
        new Field("from", new ListType(Name), "Groups whose members may approve; empty means any approver."),
        new Field("noSelfApproval", Boolean, "Whoever deploys cannot approve.", Default: "true"),
        new Field("expiry", Duration, "Approvals older than this no longer count."));

    public static readonly Shape Window = Object("window", "deployment window", "Weekly hours in which deploys may start.",
        new Field("days", new ListType(Enum("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), 1), "Days of the week.", Required: true),
        new Field("from", new TimeOfDayType(), "Start time (local to the zone).", Required: true),
        new Field("to", new TimeOfDayType(), "End time; before 'from' means it crosses midnight.", Required: true),
        new Field("zone", new ZoneType(), "IANA time zone.", Default: "UTC"));

    public static readonly Shape MonthlyFreeze = Object("monthlyFreeze", "monthly freeze", "Days of every month; fromDay after toDay wraps the month end (28 to 3).",
        new Field("fromDay", new IntegerType(1, 31), "First frozen day.", Required: true),
        new Field("toDay", new IntegerType(1, 31), "Last frozen day (inclusive).", Required: true));

    public static readonly Shape Freeze = Object("freeze", "freeze", "A period in which deploys are refused: 'monthly', or 'from' and 'to' dates.",
        new Field("monthly", new ObjectType(MonthlyFreeze), "A recurring range of days of the month."),
        new Field("from", new DateType(), "First frozen date."),
        new Field("to", new DateType(), "Last frozen date (inclusive)."),
        new Field("zone", new ZoneType(), "IANA time zone of the dates.", Default: "UTC"),
        new Field("reason", Text, "Shown when a deploy is refused."),
        new Field("running", Enum("finish", "hold"), "What a rollout already running when the freeze starts does.", Default: "finish"));

    public static readonly Shape Promotion = Object("promotion", "promotion", "Where releases come from before they may enter this environment.",
        new Field("from", Name, "The environment a release must have succeeded in.", Required: true),
        new Field("soak", Duration, "How long it must have run there.", Default: "0s"),
        new Field("auto", Boolean, "Promote automatically when the soak ends healthy.", Default: "false"));

    public static readonly Shape GateCriterion = Object("gateCriterion", "gate criterion", "A measure of its category and when it fails or warns; it passes otherwise.",
        new Field("measure", Name, "tests: total, passed, failed, skipped, passRate; coverage: lines, branches; security: critical, high, medium, low, total; a custom category: value.", Required: true),
        new Field("failWhen", new GateConditionType(), "The criterion fails when this holds ('> 0', '< previous - 2%' against the previous evaluation)."),
        new Field("warnWhen", new GateConditionType(), "The criterion warns (scores half) when this holds and failWhen does not."),
        new Field("blocking", Boolean, "A failure blocks the release (BLOCK) instead of asking for a fix (REMEDIATE).", Default: "false"),
        new Field("key", Boolean, "A key criterion: its failure fails the whole gate (BLOCK), whatever the score.", Default: "false"),
        new Field("weight", new NumberType(0, 1000), "Weight in its category's score.", Default: "1"));

    public static readonly Shape GateCategory = Object("gateCategory", "gate category", "A group of criteria over one kind of report. 'tests', 'coverage' and 'security' read test, coverage and SARIF reports; any other name reads a number from a JSON file.",
        new Field("weight", new NumberType(0, 1000), "Weight in the overall score.", Default: "1"),
        new Field("optional", Boolean, "With no report, the category is left out instead of failing.", Default: "false"),
        new Field("jsonPath", new StringType("a JSON path such as $.p95"), "For a custom category: where its value is in the JSON file given with --json NAME=FILE."),
        new Field("criteria", new ListType(new ObjectType(GateCriterion), 1), "The criteria.", Required: true));

    public static readonly Shape GateScore = Object("gateScore", "gate score", "Overall score thresholds (criteria: pass 1, warning 0.5, fail 0, weighted).",
        new Field("pass", new PercentType(0, 100), "Score at or above which the release may deploy; under it (and at or above warning) it needs remediation.", Default: "90%"),
        new Field("warning", new PercentType(0, 100), "Score under which the release is blocked even when no blocking criterion failed.", Default: "75%"));

    public static readonly Shape Gate = Object("gate", "quality gate", "Decides DEPLOY, REMEDIATE or BLOCK from the reports a build produced.",
        new Field("score", new ObjectType(GateScore), "Overall score thresholds."),
        new Field("categories", new MapType(new ObjectType(GateCategory), Name), "Categories, by name.", Required: true));

    public static readonly Shape TlsCheck = Object("tlsCheck", "TLS check", "Connects with TLS and checks the certificate: valid for the host, trusted, and not expiring within minDays.",
        new Field("address", new EndpointType(), "Where the TLS server listens.", Required: true),
        new Field("host", Text, "The name the certificate must be valid for (SNI).", Default: "the address's host"),
        new Field("minDays", new IntegerType(0, 3650), "Days the certificate must still be valid.", Default: "30"),
        new Field("ca", Text, "A PEM file of the CA to trust, besides the system's; relative to the manifest's folder."));

    public static readonly Shape HttpCheck = Object("httpCheck", "HTTP check", "An HTTP GET that must answer 2xx.",
        new Field("url", new UrlType(), "URL to get.", Required: true));

    public static readonly Shape TcpCheck = Object("tcpCheck", "TCP check", "A TCP port that must accept a connection.",
        new Field("address", new EndpointType(), "Host and port.", Required: true));

    public static readonly Shape CommandCheck = Object("commandCheck", "command check", "A program that must exit 0.",
        new Field("args", new ListType(Text, 1), "Program and arguments, one item each.", Required: true),
        new Field("shell", Boolean, "Run through /bin/sh -c (the items are joined).", Default: "false"));

    public static readonly Shape DiskCheck = Object("diskCheck", "disk check", "Free space on the file system holding a path.",
        new Field("path", Text, "A path on the file system to check.", Required: true),
        new Field("minFree", new PercentType(0, 100), "Free space it must have, as a share of its size.", Required: true));

    public static readonly Shape SignOff = Object("signOff", "sign-off", "A person of a role must sign off (gantry checklist ROLLOUT --sign ITEM).",
        new Field("role", Name, "The role that signs off.", Required: true));

    public static readonly Shape ChecklistItem = Object("checklistItem", "checklist item", "One pre-deployment check: a name and exactly one of tls, http, tcp, command, disk, signoff.",
        new Field("name", Name, "Name of the item, unique in its checklist.", Required: true),
        new Field("tls", new ObjectType(TlsCheck), "A TLS certificate check."),
        new Field("http", new ObjectType(HttpCheck), "An HTTP endpoint check."),
        new Field("tcp", new ObjectType(TcpCheck), "A TCP port check."),
        new Field("command", new ObjectType(CommandCheck), "A program check."),
        new Field("disk", new ObjectType(DiskCheck), "A free-space check."),
        new Field("signoff", new ObjectType(SignOff), "A manual sign-off."),
        new Field("required", Boolean, "A rollout waits for this item; otherwise it is reported only.", Default: "true"),
        new Field("timeout", Duration, "How long one automated check may take.", Default: "5s"));

    public static readonly Shape Environment = Object("environment", "environment", "A place releases run, with its own overrides and rules.",
        new Field("variables", new MapType(Text, EnvName), "Environment variables added to every service here."),
        new Field("overrides", new MapType(new ObjectType(ServiceOverride), Name), "Per-service changes, by service name."),
        new Field("approvals", new ObjectType(Approvals), "Approvals required to deploy here."),
        new Field("windows", new ListType(new ObjectType(Window)), "When deploys may start; none means any time."),
        new Field("freezes", new ListType(new ObjectType(Freeze)), "When deploys are refused."),
        new Field("promotion", new ObjectType(Promotion), "Promotion rule into this environment."),
        new Field("gate", Name, "A quality gate whose latest evaluation of the release must be DEPLOY before a rollout starts here."),
        new Field("checklist", new ListType(new ObjectType(ChecklistItem)), "Pre-deployment checks and sign-offs; a rollout here waits until every required one passes."),
        new Field("critical", Boolean, "A rollout failing its progress deadline here opens an incident too (aborts and rollbacks always do).", Default: "false"));

    public static readonly Shape SeverityTargets = Object("severityTargets", "severity targets", "How fast an incident of this severity must be acknowledged and resolved.",
        new Field("respond", Duration, "Time to acknowledge.", Default: "P0 15m, P1 1h, P2 4h, P3 24h"),
        new Field("resolve", Duration, "Time to resolve.", Default: "P0 1h, P1 4h, P2 24h, P3 72h"));

    public static readonly Shape SeverityRule = Object("severityRule", "severity rule", "When a rollout opens an incident, the first rule that matches gives its severity.",
        new Field("environment", Name, "Only rollouts in this environment."),
        new Field("cause", Enum("aborted", "rolledBack", "failed", "watchFailed"), "Only this cause: aborted by its analysis or health, rolled back, failed its progress deadline, failed its watch after promotion while keeping its traffic."),
        new Field("trafficAbove", new PercentType(0, 100), "Only when more than this share of the traffic was on the new release."),
        new Field("severity", Enum("P0", "P1", "P2", "P3"), "The severity.", Required: true));

    public static readonly Shape EscalationLevel = Object("escalationLevel", "escalation level", "Who is told, and when: a level is reached when the incident is still not acknowledged 'after' the previous one.",
        new Field("name", Name, "The level, such as on-call or team-lead.", Required: true),
        new Field("after", Duration, "Time without acknowledgement after the previous level (or the opening, for the first).", Default: "0s"),
        new Field("notify", new ListType(Name, 1), "Receivers told when the level is reached.", Required: true));

    public static readonly Shape AlertRule = Object("alertRule", "alert rule", "An alert from Alertmanager whose labels all match: the severity of its incident, and whether the newest release is rolled back.",
        new Field("match", new MapType(Text, Text), "Labels and the values they must have (alertname, severity, team, ...).", Required: true),
        new Field("severity", Enum("P0", "P1", "P2", "P3"), "The incident's severity.", Default: "the default severity"),
        new Field("rollback", Duration, "Roll back the service's newest release if it reached the environment within this long (a rollout in progress is aborted)."));
    public static readonly Shape Alerts = Object("alerts", "alerts", "Alerts received from Alertmanager's webhook (POST /api/v1/alerts): each opens an incident, or adds to the open one of its service.",
        new Field("serviceLabel", Text, "The label naming the service.", Default: "service"),
        new Field("environmentLabel", Text, "The label naming the environment (absent: the default environment).", Default: "environment"),
        new Field("rules", new ListType(new ObjectType(AlertRule)), "The first rule that matches an alert grades it."));

    public static readonly Shape Incidents = Object("incidents", "incidents", "How incidents are opened, graded and escalated.",
        new Field("severities", new MapType(new ObjectType(SeverityTargets), Enum("P0", "P1", "P2", "P3")), "Response and resolution targets, by severity."),
        new Field("rules", new ListType(new ObjectType(SeverityRule)), "Severity of incidents opened by rollouts; the first match wins."),
        new Field("defaultSeverity", Enum("P0", "P1", "P2", "P3"), "Severity when no rule matches.", Default: "P2"),
        new Field("escalation", new ListType(new ObjectType(EscalationLevel)), "Escalation levels, in order."),
        new Field("alerts", new ObjectType(Alerts), "What alerts from Alertmanager open and do."));

    public static readonly Shape WebhookReceiver = Object("webhookReceiver", "webhook receiver", "POSTs the notification as JSON.",
        new Field("url", new UrlType(), "Where to POST.", Required: true),
        new Field("headers", new MapType(Text, Text), "Headers added to every request."));

    public static readonly Shape SlackReceiver = Object("slackReceiver", "Slack-compatible receiver", "POSTs a Slack incoming-webhook message ({\"text\": ...}).",
        new Field("url", new UrlType(), "The incoming webhook's URL.", Required: true));

    public static readonly Shape LogReceiver = Object("logReceiver", "log receiver", "Appends each notification as a JSON line to a file.",
        new Field("path", Text, "The file, relative to the manifest's folder.", Required: true));

    public static readonly Shape Receiver = Object("receiver", "receiver", "Where notifications go: exactly one of webhook, slack, log.",
        new Field("webhook", new ObjectType(WebhookReceiver), "A generic JSON webhook."),
        new Field("slack", new ObjectType(SlackReceiver), "A Slack-compatible incoming webhook."),
        new Field("log", new ObjectType(LogReceiver), "A JSON-lines file."));

    private static readonly EnumType NotificationEvent = Enum("rollout.started", "rollout.paused", "rollout.awaitingApproval", "rollout.aborted", "rollout.rolledBack", "rollout.succeeded", "rollout.failed", "incident.opened", "incident.escalated", "incident.acknowledged", "incident.mitigated", "incident.resolved");

    public static readonly Shape Subscription = Object("subscription", "subscription", "Which events go to which receivers.",
        new Field("events", new ListType(NotificationEvent, 1), "The events.", Required: true),
        new Field("receivers", new ListType(Name, 1), "The receivers.", Required: true),
        new Field("environments", new ListType(Name), "Only events of these environments (all when absent)."));

    public static readonly Shape Retry = Object("retry", "retry", "How a notification is retried while its receiver fails.",
        new Field("attempts", new IntegerType(1, 50), "Attempts before the notification is dead-lettered.", Default: "5"),
        new Field("backoff", Duration, "Wait before the second attempt; doubled each time.", Default: "1s"),
        new Field("timeout", Duration, "How long one attempt may take.", Default: "5s"));

    public static readonly Shape Notifications = Object("notifications", "notifications", "Receivers, and the events each is told about.",
        new Field("receivers", new MapType(new ObjectType(Receiver), Name), "Receivers, by name."),
        new Field("subscriptions", new ListType(new ObjectType(Subscription)), "Which events go where."),
        new Field("retry", new ObjectType(Retry), "Retries with back-off, then a dead letter."),
        new Field("templates", new MapType(Text, NotificationEvent), "The message text of an event, with {field} placeholders ({title}, {severity}, {startTime}, {services}, {impact}, {status}, {actionsTaken}, {nextUpdate}, {incident}, {rollout}, {version}, {rootCause}, {escalationLevel}, {resolvedAt}, {event}, and {text}: the default text); a field without a value shows as '-'."));

    public static readonly Shape Root = Object("manifest", "manifest", "A Gantry manifest (gantry.yaml).",
        new Field("version", new IntegerType(1, 1), "Manifest format version.", Default: "1"),
        new Field("services", new MapType(new ObjectType(Service), Name), "Services, by name.", Required: true),
        new Field("analysis", new MapType(new ObjectType(AnalysisTemplate), Name), "Analysis templates, by name."),
        new Field("environments", new MapType(new ObjectType(Environment), Name), "Environments, by name, in promotion order."),
        new Field("gates", new MapType(new ObjectType(Gate), Name), "Quality gates, by name."),
        new Field("incidents", new ObjectType(Incidents), "Incident severities, targets and escalation."),
        new Field("notifications", new ObjectType(Notifications), "Who is told what."));
}
