using Gantry.Core.Manifest;

namespace Gantry.Core.Traffic;

/// <summary>What a traffic router can do. A manifest that asks for more than the configured router offers is refused.</summary>
[Flags]
public enum RouterCapabilities
{
    None = 0,

    /// <summary>Splits requests between versions by weight (setWeight, blue-green switches).</summary>
    Weights = 1,

    /// <summary>Sends requests with a matching header to the canary (setHeaderRoute with header matches).</summary>
    HeaderRoutes = 2,

    /// <summary>Sends requests with a matching cookie to the canary (setHeaderRoute with cookie matches).</summary>
    CookieRoutes = 4,

    /// <summary>Copies a share of requests to the canary and discards its answers (setMirror).</summary>
    Mirroring = 8,

    /// <summary>Keeps a user on one side of a split by a cookie or header (the service's sticky key).</summary>
    Stickiness = 16,

    /// <summary>Answers 503 with a message while a service is in maintenance.</summary>
    Maintenance = 32,

    /// <summary>Limits each client address's requests to a service (429 with Retry-After past the limit).</summary>
    RateLimits = 64,
}

/// <summary>The capabilities of the routers Gantry ships, and the words validate uses for them.</summary>
public static class RouterCapability
{
    /// <summary>Gantry's own router: every capability.</summary>
    public const RouterCapabilities Builtin = RouterCapabilities.Weights | RouterCapabilities.HeaderRoutes | RouterCapabilities.CookieRoutes | RouterCapabilities.Mirroring | RouterCapabilities.Stickiness | RouterCapabilities.Maintenance | RouterCapabilities.RateLimits;

    /// <summary>The capability a route match needs.</summary>
    public static RouterCapabilities For(RouteMatch match) => match.Source == MatchSource.Cookie ? RouterCapabilities.CookieRoutes : RouterCapabilities.HeaderRoutes;

    public static string Describe(RouterCapabilities capability) => capability switch
    {
        RouterCapabilities.Weights => "weighted splits",
        RouterCapabilities.HeaderRoutes => "header routing",
        RouterCapabilities.CookieRoutes => "cookie routing",
        RouterCapabilities.Mirroring => "mirroring",
        RouterCapabilities.Stickiness => "sticky sessions",
        RouterCapabilities.Maintenance => "maintenance mode",
        RouterCapabilities.RateLimits => "rate limits",
        _ => capability.ToString(),
    };
}
