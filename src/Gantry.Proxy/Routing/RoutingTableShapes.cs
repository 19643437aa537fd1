using Gantry.Core.Manifest.Schema;

namespace Gantry.Proxy.Routing;

/// <summary>Every key of a routing-table file, with its type and meaning.</summary>
public static class RoutingTableShapes
{
    private static readonly DurationType Duration = new();
    private static readonly StringType Text = new();

    public static readonly Shape Group = new("group", "backend group", "Instances of one role and their share of traffic.",
    [
        new Field("weight", new IntegerType(0, 1_000_000), "Share of traffic, relative to the other groups' weights (90 and 10, or 995 and 5).", Required: true),
        new Field("instances", new ListType(new EndpointType()), "Addresses of the instances."),
        new Field("loadBalancing", new EnumType(["roundRobin", "leastRequests", "powerOfTwoChoices"]), "How an instance is chosen within the group.", Default: "roundRobin"),
    ]);

    public static readonly Shape GroupMatch = new("groupMatch", "match", "Requests with this header or cookie value go to the group whatever the weights.",
    [
        .. ManifestShapes.RouteMatch.Fields,
        new Field("group", new NameType(), "The group that matching requests go to.", Required: true),
    ]);

    public static readonly Shape Mirror = new("mirror", "mirror", "Copies a share of requests to a group; its answers are discarded.",
    [
        new Field("group", new NameType(), "The group that receives the copies.", Required: true),
        new Field("percent", new NumberType(0, 100), "Share of requests to copy.", Required: true),
        new Field("match", new ListType(new ObjectType(ManifestShapes.RouteMatch)), "Copy only requests matching all of these."),
    ]);

    public static readonly Shape Sticky = new("sticky", "stickiness", "Keeps a user on one side of the split.",
    [
        new Field("cookie", Text, "Cookie whose value is hashed; the router sets it when a request has none."),
        new Field("header", Text, "Header whose value is hashed, such as a user id."),
    ], ExactlyOne: true);

    public static readonly Shape PassiveHealth = new("passiveHealth", "passive health", "Takes out instances that keep failing requests.",
    [
        new Field("consecutiveFailures", new IntegerType(1, 1000), "Failed requests in a row that take an instance out.", Default: "5"),
        new Field("ejectFor", Duration, "How long it stays out.", Default: "10s"),
    ]);

    public static readonly Shape Tls = new("tls", "TLS", "TLS on the front listener; clients may then use HTTP/2.",
    [
        new Field("certificate", new StringType("a PEM file"), "Certificate chain, PEM.", Required: true),
        new Field("key", new StringType("a PEM file"), "Private key, PEM.", Required: true),
    ]);

    public static readonly Shape Route = new("route", "route", "One service on a front listener.",
    [
        new Field("name", new NameType(), "The service's name, used in metrics.", Required: true),
        new Field("listen", new EndpointType(), "Front address.", Required: true),
        new Field("hosts", new ListType(Text), "Host header values this route answers; none means any."),
        new Field("pathPrefix", new StringType("a path starting with /"), "Path prefix this route answers.", Default: "/"),
        new Field("groups", new MapType(new ObjectType(Group), new NameType()), "Backend groups by role: stable, canary, preview, baseline.", Required: true),
        new Field("matches", new ListType(new ObjectType(GroupMatch)), "Header and cookie routes, first match wins."),
        new Field("mirror", new ObjectType(Mirror), "Traffic mirroring."),
        new Field("sticky", new ObjectType(Sticky), "Stickiness."),
        new Field("passiveHealth", new ObjectType(PassiveHealth), "Passive health."),
        new Field("timeout", Duration, "Time for the upstream to answer with headers.", Default: "100s"),
        new Field("drainTimeout", Duration, "How long in-flight requests of a removed instance may run.", Default: "12s (a service's default drain, 2s, plus its default stop timeout, 10s)"),
        new Field("tls", new ObjectType(Tls), "Serve the front listener over TLS (HTTP/1.1 and HTTP/2)."),
        new Field("rateLimit", new ObjectType(Core.Manifest.Schema.ServiceShapes.RateLimit), "Requests per second per client address; past it, 429 with Retry-After."),
    ]);

    public static readonly Shape Root = new("routingTable", "routing table", "The router's routes.",
    [
        new Field("routes", new ListType(new ObjectType(Route)), "The routes.", Required: true),
    ]);
}
