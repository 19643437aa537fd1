using System.Text.RegularExpressions;
using Gantry.Core.Access;
using Gantry.Core.Audit;
using Gantry.Server.Rollouts;

namespace Gantry.Server.Access;

/// <summary>Creates, lists and revokes tokens; each change is audited, the secret never is.</summary>
public sealed partial class TokenService(GantryManifest manifest, ITokenStore store, TimeProvider time)
{
    /// <summary>How long a token lives when the request does not say.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(90);

    /// <summary>The identity of the token the embedded server makes for its own machine.</summary>
    public const string LocalAdmin = "local-admin";

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._@+\-]{0,63}$")]
    private static partial Regex NameSyntax();

    public async Task<Result<CreatedToken>> CreateAsync(TokenRequest request, AuditContext who, CancellationToken ct)
    {
        if (request.Identity is not { } identity || !NameSyntax().IsMatch(identity))
        {
            return Bad($"identity '{request.Identity}' is not valid: letters, digits, '.', '_', '@', '+' and '-', up to 64 characters");
        }

        var roles = new List<Role>();
        foreach (var text in request.Roles ?? [])
        {
            if (RoleNames.Parse(text) is not { } role)
            {
                return Bad($"unknown role '{text}': roles are {string.Join(", ", RoleNames.All)}");
            }

            roles.Add(role);
        }

        if (roles.Count == 0)
        {
            return Bad($"a token needs at least one role ({string.Join(", ", RoleNames.All)})");
        }

        foreach (var group in (request.Groups ?? []).Where(g => !NameSyntax().IsMatch(g)))
        {
            return Bad($"group '{group}' is not a valid name");
        }

        var known = manifest.Environments.IsEmpty ? [EffectiveService.DefaultEnvironment] : manifest.Environments.Select(e => e.Name).ToList();
        foreach (var environment in (request.Environments ?? []).Where(e => !known.Contains(e)))
        {
            return ProblemCodes.InvalidRequest.With($"no environment '{environment}' in the manifest (it has {string.Join(", ", known)})");
        }

        var now = time.GetUtcNow();
        DateTimeOffset? expires = now + DefaultLifetime;
        if (request.Expires is "never")
        {
            expires = null;
        }
        else if (request.Expires is { } text)
        {
            if (Core.Manifest.Values.DurationSyntax.TryParse(text, out var lifetime) is { } error)
            {
                return Bad($"expires: {error.Message} (or 'never')");
            }

            if (lifetime <= TimeSpan.Zero)
            {
                return Bad("expires: a token must live for some time");
            }

            expires = now + lifetime;
        }

        var (id, secret) = TokenSecret.New();
        var token = new ApiToken(id, identity, [.. roles.Distinct().Order()], [.. (request.Groups ?? []).Distinct().Order(StringComparer.Ordinal)],
            [.. (request.Environments ?? []).Distinct().Order(StringComparer.Ordinal)], TokenSecret.Hash(secret), now, who.Actor, expires);
        await store.CreateTokenAsync(token, who, ct);
        return new CreatedToken(token.View(now), secret);
    }

    public async Task<IReadOnlyList<TokenView>> ListAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        return [.. (await store.TokensAsync(ct)).Select(t => t.View(now))];
    }

    public async Task<Result<TokenView>> RevokeAsync(string id, AuditContext who, CancellationToken ct)
    {
        if (await store.TokenAsync(id, ct) is not { } token)
        {
            return ProblemCodes.UnknownToken.With($"there is no token '{id}'");
        }

        if (token.RevokedAt is not null)
        {
            return ProblemCodes.AlreadyRevoked.With($"token {id} ({token.Identity}) is already revoked");
        }

        var revoked = await store.RevokeTokenAsync(id, time.GetUtcNow(), who, ct);
        return revoked!.View(time.GetUtcNow());
    }

    /// <summary>
    /// The embedded default's first-start token: an admin token for this machine, written to
    /// <c>DATA/admin.token</c> readable only by its owner (0600). Kept while it still authenticates; made anew when
    /// the file is missing or its token was revoked.
    /// </summary>
    public async Task<string> EnsureLocalAdminAsync(string dataDirectory, CancellationToken ct)
    {
        var path = LocalAdminFile(dataDirectory);
        if (File.Exists(path))
        {
            var text = (await File.ReadAllTextAsync(path, ct)).Trim();
            if (TokenSecret.IdOf(text) is { } id && await store.TokenAsync(id, ct) is { RevokedAt: null } token && !token.IsExpired(time.GetUtcNow()) && TokenSecret.Matches(text, token.Hash))
            {
                return text;
            }
        }

        var created = await CreateAsync(new TokenRequest(LocalAdmin, [RoleNames.Of(Role.Admin)], Expires: "never"), new AuditContext("gantry", "first start of the embedded server", "local"), ct);
        var temporary = path + ".new";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created readable by its owner only: never, even for a moment, by anyone else.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var file = new FileStream(temporary, options))
        await using (var writer = new StreamWriter(file))
        {
            await writer.WriteLineAsync(created.Value!.Secret);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
        return created.Value!.Secret;
    }

    public static string LocalAdminFile(string dataDirectory) => Path.Combine(dataDirectory, "admin.token");

    private static Problem Bad(string detail) => ProblemCodes.InvalidRequest.With(detail);
}
