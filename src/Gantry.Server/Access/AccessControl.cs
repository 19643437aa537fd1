using System.Collections.Concurrent;
using System.Globalization;
using Gantry.Core.Access;
using Gantry.Core.Audit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Access;

/// <summary>Endpoint metadata: any one of these roles lets a caller through (the environment is checked by the handler once known).</summary>
public sealed record Requires(params Role[] AnyOf)
{
    public override string ToString() => string.Join(" or ", AnyOf.Select(RoleNames.Of));
}

/// <summary>Endpoint metadata: answered without a token (health, metrics, the API's own description).</summary>
public sealed record PublicEndpoint;

/// <summary>
/// How many failed authentications one address (<see cref="FailureLimit"/>) and all addresses together
/// (<see cref="GlobalFailureLimit"/>) may make in a window before callers without a valid token get 429 for the rest of it.
/// </summary>
public sealed record AccessOptions(int FailureLimit = 10, TimeSpan? Window = null, int GlobalFailureLimit = 300)
{
    public TimeSpan FailureWindow => Window ?? TimeSpan.FromMinutes(1);
}

/// <summary>
/// Every API call is authenticated by a bearer token and authorised by the roles its endpoint requires; the
/// caller is kept for the handlers (<see cref="CallerOf"/>) and the audit (<see cref="WhoOf"/>). A valid token
/// is always accepted; failed authentications are counted per address and overall, and past either limit callers
/// without a valid token get 429 until the window passes. The audit gets the first failure of an address in a
/// window and its lockout, each with how many failures it stands for, not one event per failure.
/// </summary>
public sealed class AccessControl(ITokenStore tokens, TimeProvider time, AccessOptions options)
{
    private static readonly object CallerKey = new();
    private const string Everyone = "*";
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> failures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> unrecorded = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> lastTouched = new(StringComparer.Ordinal);

    public static Principal? CallerOf(HttpContext http) => http.Items.TryGetValue(CallerKey, out var p) ? p as Principal : null;

    /// <summary>Who is asking, from where, for the audit trail.</summary>
    public static AuditContext WhoOf(HttpContext http) => CallerOf(http) is { } caller
        ? new AuditContext(caller.Name, null, SourceOf(http, caller.TokenId))
        : new AuditContext("anonymous", null, SourceOf(http, null));

    private static string SourceOf(HttpContext http, string? tokenId)
    {
        var address = http.Connection.RemoteIpAddress is { } ip ? (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString() : "unknown address";
        return tokenId is null ? address : $"{address}, token {tokenId}";
    }

    /// <summary>The routing's own endpoints for a path that exists with other methods or content types: answered 405 or 415 to an authenticated caller.</summary>
    private static readonly HashSet<string> RoutingRefusals = new(StringComparer.Ordinal) { "405 HTTP Method Not Supported", "415 HTTP Unsupported Media Type" };

    public void Use(WebApplication app) => app.Use(async (http, next) =>
    {
        var endpoint = http.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<PublicEndpoint>() is not null || (endpoint is null && !http.Request.Path.StartsWithSegments("/api")))
        {
            await next(http);
            return;
        }

        var (caller, problem) = await AuthenticateAsync(http);
        if (caller is null)
        {
            await problem!.ExecuteAsync(http);
            return;
        }

        http.Items[CallerKey] = caller;
        if (endpoint is null || RoutingRefusals.Contains(endpoint.DisplayName ?? string.Empty))
        {
            await next(http);
            return;
        }

        var requires = endpoint.Metadata.GetMetadata<Requires>();
        if (requires is null || !requires.AnyOf.Any(r => caller.May(r, null)))
        {
            var why = requires is null
                ? $"{http.Request.Method} {http.Request.Path} has no access rule: refused"
                : $"{http.Request.Method} {http.Request.Path} needs the {requires} role; {caller.Name} holds {string.Join(", ", caller.Roles.Select(RoleNames.Of))}";
            await Forbidden(why).ExecuteAsync(http);
            return;
        }

        await next(http);
    });

    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Forbidden(string detail) => Api.ProblemResults.For(Gantry.Api.ProblemCodes.Forbidden, detail);

    /// <summary>A handler's check once the environment is known: null when the caller may act with <paramref name="role"/> there.</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? Check(HttpContext http, Role role, string? environment) =>
        CallerOf(http) is { } caller && caller.May(role, environment) ? null
        : Forbidden(CallerOf(http)?.Refusal(role, environment) ?? "not authenticated");

    private async Task<(Principal?, IResult?)> AuthenticateAsync(HttpContext http)
    {
        var now = time.GetUtcNow();
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var header = http.Request.Headers.Authorization.ToString();
        string? presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        var id = presented is null ? null : TokenSecret.IdOf(presented);

        // A token that cannot be valid is refused before any lookup while the address (or everyone) is locked out;
        // one that may be valid is always looked at, so a valid token behind a busy address is never refused.
        if (id is null && (LockedUntil(address, options.FailureLimit, now) ?? LockedUntil(Everyone, options.GlobalFailureLimit, now)) is { } until)
        {
            return (null, TooMany(http, address, until, now));
        }

        string? failure;
        if (presented is null)
        {
            failure = header.Length == 0
                ? "no token: send 'Authorization: Bearer TOKEN' (the CLI reads GANTRY_TOKEN, its config file, or the server's data directory)"
                : "the Authorization header is not 'Bearer TOKEN'";
        }
        else if (id is null || await tokens.TokenAsync(id, http.RequestAborted) is not { } token || !TokenSecret.Matches(presented, token.Hash))
        {
            failure = "the token is not valid";
        }
        else if (token.RevokedAt is { } revoked)
        {
            failure = string.Create(CultureInfo.InvariantCulture, $"token {token.Id} was revoked at {revoked.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
        }
        else if (token.IsExpired(now))
        {
            failure = string.Create(CultureInfo.InvariantCulture, $"token {token.Id} expired at {token.ExpiresAt!.Value.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
        }
        else
        {
            await TouchAsync(token, now, http.RequestAborted);
            return (token.Principal, null);
        }

        if ((LockedUntil(address, options.FailureLimit, now) ?? LockedUntil(Everyone, options.GlobalFailureLimit, now)) is { } locked)
        {
            unrecorded.AddOrUpdate(address, 1, (_, n) => n + 1);
            return (null, TooMany(http, address, locked, now));
        }

        var count = Fail(address, now);
        var everyone = Fail(Everyone, now);
        var reached = count == options.FailureLimit || everyone == options.GlobalFailureLimit;
        if (count == 1 || reached)
        {
            // The first failure of an address in a window, and the one that locks it (or everyone) out, are audited;
            // the ones between and after are counted into the next record.
            var skipped = unrecorded.TryRemove(address, out var n) ? n : 0;
            var more = skipped == 0 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" (and {skipped} more failure{(skipped == 1 ? string.Empty : "s")} from {address} not recorded one by one)");
            var lockout = !reached ? string.Empty
                : count == options.FailureLimit
                    ? string.Create(CultureInfo.InvariantCulture, $"; {options.FailureLimit} failures: {address} is refused until the window passes (valid tokens are still accepted)")
                    : string.Create(CultureInfo.InvariantCulture, $"; {options.GlobalFailureLimit} failures from all addresses: callers without a valid token are refused until the window passes");
            await tokens.AuditAsync(now, new AuditContext("anonymous", null, SourceOf(http, null)), reached ? "auth.locked" : "auth.failed", "api",
                $"{http.Request.Method} {http.Request.Path} with {TokenSecret.Describe(presented)}: {failure}{more}{lockout}", CancellationToken.None);
        }
        else
        {
            unrecorded.AddOrUpdate(address, 1, (_, k) => k + 1);
        }

        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"gantry\"";
        return (null, Api.ProblemResults.For(Gantry.Api.ProblemCodes.NotAuthenticated, failure));
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult TooMany(HttpContext http, string address, DateTimeOffset until, DateTimeOffset now)
    {
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((until - now).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return Api.ProblemResults.For(Gantry.Api.ProblemCodes.LockedOut,
            $"too many failed authentications from {address} (or from everyone): try again after {until.UtcDateTime:HH:mm:ss} UTC, or present a valid token");
    }

    /// <summary>Records a failure of a key (an address, or everyone); how many it has in the window now.</summary>
    private int Fail(string key, DateTimeOffset now)
    {
        if (failures.Count > 10_000)
        {
            // Many addresses over time: forget the ones whose window has passed.
            foreach (var (old, q) in failures)
            {
                lock (q)
                {
                    Trim(q, now);
                    if (q.Count == 0)
                    {
                        failures.TryRemove(old, out _);
                        unrecorded.TryRemove(old, out _);
                    }
                }
            }
        }

        var queue = failures.GetOrAdd(key, _ => new Queue<DateTimeOffset>());
        lock (queue)
        {
            Trim(queue, now);
            queue.Enqueue(now);
            return queue.Count;
        }
    }

    private DateTimeOffset? LockedUntil(string address, int limit, DateTimeOffset now)
    {
        if (!failures.TryGetValue(address, out var queue))
        {
            return null;
        }

        lock (queue)
        {
            Trim(queue, now);
            return queue.Count >= limit ? queue.Peek() + options.FailureWindow : null;
        }
    }

    private void Trim(Queue<DateTimeOffset> queue, DateTimeOffset now)
    {
        while (queue.Count > 0 && now - queue.Peek() >= options.FailureWindow)
        {
            queue.Dequeue();
        }
    }

    /// <summary>Notes when a token was last used, at most once a minute per token.</summary>
    private async Task TouchAsync(ApiToken token, DateTimeOffset now, CancellationToken ct)
    {
        if (lastTouched.TryGetValue(token.Id, out var last) && now - last < TimeSpan.FromMinutes(1))
        {
            return;
        }

        lastTouched[token.Id] = now;
        await tokens.TouchTokenAsync(token.Id, now, ct);
    }
}
