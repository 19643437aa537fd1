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

/// <summary>How many failed authentications one address may make in a window before it is refused for the rest of it.</summary>
public sealed record AccessOptions(int FailureLimit = 10, TimeSpan? Window = null)
{
    public TimeSpan FailureWindow => Window ?? TimeSpan.FromMinutes(1);
}

/// <summary>
/// Every API call is authenticated by a bearer token and authorised by the roles its endpoint requires; the
/// caller is kept for the handlers (<see cref="CallerOf"/>) and the audit (<see cref="WhoOf"/>). Failed
/// authentications are audited and counted per address: past the limit, the address gets 429 until the window passes.
/// </summary>
public sealed class AccessControl(ITokenStore tokens, TimeProvider time, AccessOptions options)
{
    private static readonly object CallerKey = new();
    private readonly ConcurrentDictionary<string, Queue<DateTimeOffset>> failures = new(StringComparer.Ordinal);
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
        if (endpoint is null)
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

    public static IResult Forbidden(string detail) => Results.Problem(detail: detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    /// <summary>A handler's check once the environment is known: null when the caller may act with <paramref name="role"/> there.</summary>
    public static IResult? Check(HttpContext http, Role role, string? environment) =>
        CallerOf(http) is { } caller && caller.May(role, environment) ? null
        : Forbidden(CallerOf(http)?.Refusal(role, environment) ?? "not authenticated");

    private async Task<(Principal?, IResult?)> AuthenticateAsync(HttpContext http)
    {
        var now = time.GetUtcNow();
        var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (LockedUntil(address, now) is { } until)
        {
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((until - now).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return (null, Results.Problem(
                detail: $"too many failed authentications from {address}: try again after {until.UtcDateTime:HH:mm:ss} UTC",
                statusCode: StatusCodes.Status429TooManyRequests, title: "Too many failed authentications"));
        }

        var header = http.Request.Headers.Authorization.ToString();
        string? presented = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        string? failure;
        Principal? caller = null;
        if (presented is null)
        {
            failure = header.Length == 0
                ? "no token: send 'Authorization: Bearer TOKEN' (the CLI reads GANTRY_TOKEN, its config file, or the server's data directory)"
                : "the Authorization header is not 'Bearer TOKEN'";
        }
        else if (TokenSecret.IdOf(presented) is not { } id || await tokens.TokenAsync(id, http.RequestAborted) is not { } token || !TokenSecret.Matches(presented, token.Hash))
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
            failure = null;
            caller = token.Principal;
            await TouchAsync(token, now, http.RequestAborted);
        }

        if (caller is not null)
        {
            return (caller, null);
        }

        var locked = Fail(address, now);
        await tokens.AuditAsync(now, new AuditContext("anonymous", null, SourceOf(http, null)), locked ? "auth.locked" : "auth.failed", "api",
            $"{http.Request.Method} {http.Request.Path} with {TokenSecret.Describe(presented)}: {failure}" + (locked ? string.Create(CultureInfo.InvariantCulture, $"; {options.FailureLimit} failures: {address} is refused until the window passes") : string.Empty),
            CancellationToken.None);
        http.Response.Headers.WWWAuthenticate = "Bearer realm=\"gantry\"";
        return (null, Results.Problem(detail: failure, statusCode: StatusCodes.Status401Unauthorized, title: "Not authenticated"));
    }

    /// <summary>Records a failure; true when it is the one that reaches the limit.</summary>
    private bool Fail(string address, DateTimeOffset now)
    {
        var queue = failures.GetOrAdd(address, _ => new Queue<DateTimeOffset>());
        lock (queue)
        {
            Trim(queue, now);
            queue.Enqueue(now);
            return queue.Count == options.FailureLimit;
        }
    }

    private DateTimeOffset? LockedUntil(string address, DateTimeOffset now)
    {
        if (!failures.TryGetValue(address, out var queue))
        {
            return null;
        }

        lock (queue)
        {
            Trim(queue, now);
            return queue.Count >= options.FailureLimit ? queue.Peek() + options.FailureWindow : null;
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
