using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gantry.Core.Access;

/// <summary>What an identity may do. Roles do not imply one another, except that every role may read and admin may do everything.</summary>
public enum Role
{
    /// <summary>Reads services, rollouts, evidence, the audit trail.</summary>
    Viewer,

    /// <summary>Deploys, promotes, pauses, resumes, aborts, retries, rolls back; sends gate reports.</summary>
    Deployer,

    /// <summary>Approves or rejects rollouts, signs checklist items, overrides REMEDIATE gates, declares and lifts freezes.</summary>
    Approver,

    /// <summary>Deploys with <c>--emergency</c>: past windows, freezes and soak (never past authentication or the audit).</summary>
    Emergency,

    /// <summary>Everything, and manages tokens.</summary>
    Admin,

    /// <summary>Posts gate evaluations: a build pipeline's identity, so that the subject of a gate cannot grade itself.</summary>
    Ci,

    /// <summary>Sends alerts (Alertmanager's webhook): an alerting system's identity; its alerts open incidents and, as the alert rules say, roll back.</summary>
    Alerting,
}

/// <summary>
/// Who is calling: an identity (a person or a machine) with roles, the groups that approval rules name, and
/// the environments it may change (empty: all). Known by the token it presented.
/// </summary>
public sealed record Principal(string Name, ValueList<Role> Roles, ValueList<string> Groups, ValueList<string> Environments, string TokenId)
{
    public bool Has(Role role) => Roles.Contains(Role.Admin) || Roles.Contains(role);

    /// <summary>Whether the identity may do what <paramref name="role"/> allows in <paramref name="environment"/> (null: not tied to one).</summary>
    public bool May(Role role, string? environment) =>
        role == Role.Viewer || (Has(role) && (Environments.IsEmpty || environment is null || Environments.Contains(environment)));

    /// <summary>The one-line reason <see cref="May"/> said no.</summary>
    public string Refusal(Role role, string? environment) => !Has(role)
        ? $"{Name} does not hold the {RoleNames.Of(role)} role (holds {string.Join(", ", Roles.Select(RoleNames.Of))})"
        : $"{Name} may act as {RoleNames.Of(role)} only in {string.Join(", ", Environments)}, not in {environment}";
}

public static class RoleNames
{
    public static string Of(Role role) => role.ToString().ToLowerInvariant();

    /// <summary>One role by its name; anything else (numbers, lists such as "deployer,approver") is not a role.</summary>
    public static Role? Parse(string text)
    {
        foreach (var role in Enum.GetValues<Role>())
        {
            if (string.Equals(Of(role), text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return role;
            }
        }

        return null;
    }

    public static IReadOnlyList<string> All { get; } = [.. Enum.GetValues<Role>().Select(Of)];
}

/// <summary>An API token as stored: never the secret, only its SHA-256.</summary>
public sealed record ApiToken(
    string Id,
    string Identity,
    ValueList<Role> Roles,
    ValueList<string> Groups,
    ValueList<string> Environments,
    string Hash,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt = null,
    string? RevokedBy = null,
    DateTimeOffset? LastUsedAt = null)
{
    public bool IsExpired(DateTimeOffset now) => ExpiresAt is { } at && now >= at;

    public Principal Principal => new(Identity, Roles, Groups, Environments, Id);

    /// <summary>The token without its hash, as the API and the CLI show it.</summary>
    public TokenView View(DateTimeOffset now) => new(Id, Identity, Roles, Groups, Environments, CreatedAt, CreatedBy, ExpiresAt, RevokedAt, RevokedBy, LastUsedAt,
        RevokedAt is not null ? "revoked" : IsExpired(now) ? "expired" : "active");
}

public sealed record TokenView(
    string Id, string Identity, ValueList<Role> Roles, ValueList<string> Groups, ValueList<string> Environments, DateTimeOffset CreatedAt, string CreatedBy,
    DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string? RevokedBy, DateTimeOffset? LastUsedAt, string Status);

/// <summary>
/// The secret form of a token, <c>gantry_ID_SECRET</c>: the id finds the stored record, the whole text is
/// hashed with SHA-256 and compared in constant time. 32 random bytes make a slow hash unnecessary.
/// </summary>
public static class TokenSecret
{
    public const string Prefix = "gantry_";

    /// <summary>A new token: its id and the text shown once.</summary>
    public static (string Id, string Text) New()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (id, $"{Prefix}{id}_{secret}");
    }

    /// <summary>The id of a presented token, or null when it does not have the shape of one.</summary>
    public static string? IdOf(string text)
    {
        if (!text.StartsWith(Prefix, StringComparison.Ordinal) || text.Length > 200)
        {
            return null;
        }

        var rest = text[Prefix.Length..];
        var at = rest.IndexOf('_', StringComparison.Ordinal);
        return at == 12 && rest[..at].All(char.IsAsciiHexDigitLower) && rest.Length > at + 20 ? rest[..at] : null;
    }

    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static bool Matches(string text, string hash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(text)), Encoding.ASCII.GetBytes(hash));

    /// <summary>What may be shown of a presented text in a record of a failed attempt: the id, never the secret.</summary>
    public static string Describe(string? text) => text is null ? "no token"
        : IdOf(text) is { } id ? string.Create(CultureInfo.InvariantCulture, $"token {id}")
        : "a malformed token";
}

/// <summary>Where tokens are kept; creating and revoking are audited in the same transaction.</summary>
public interface ITokenStore
{
    Task CreateTokenAsync(ApiToken token, Audit.AuditContext who, CancellationToken ct);

    Task<ApiToken?> TokenAsync(string id, CancellationToken ct);

    Task<IReadOnlyList<ApiToken>> TokensAsync(CancellationToken ct);

    /// <summary>Revokes a token; the revoked record, or null when there is no such token.</summary>
    Task<ApiToken?> RevokeTokenAsync(string id, DateTimeOffset at, Audit.AuditContext who, CancellationToken ct);

    /// <summary>Notes when a token was last used (not audited).</summary>
    Task TouchTokenAsync(string id, DateTimeOffset at, CancellationToken ct);

    /// <summary>Records an event that changes no state (a refused authentication), alone in its transaction.</summary>
    Task AuditAsync(DateTimeOffset at, Audit.AuditContext who, string action, string target, string detail, CancellationToken ct);
}
