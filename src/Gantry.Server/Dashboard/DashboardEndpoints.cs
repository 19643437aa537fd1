using System.Collections.Frozen;
using System.Security.Cryptography;
using Gantry.Server.Access;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gantry.Server.Dashboard;

/// <summary>
/// The web dashboard: a page at <c>/</c> and its files under <c>/ui/</c>, served from the server's own assembly on
/// the API's origin. The files are public (they hold no data); everything the page shows it reads from the API with
/// the token the user signed in with, kept in the page's memory only, so no cookie can be ridden by another site and
/// no token ever appears in a URL. Every answer carries a Content-Security-Policy that allows only this origin's
/// scripts and styles, no inline script, and no framing.
/// </summary>
public static class DashboardEndpoints
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly FrozenDictionary<string, string> Types = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly Lazy<FrozenDictionary<string, Asset>> Assets = new(Load);

    /// <summary>A file of the dashboard: its bytes, type and strong validator.</summary>
    public sealed record Asset(byte[] Body, string Type, string ETag);

    /// <summary>The dashboard's files by their path under <c>/ui/</c> (<c>index.html</c> is the page).</summary>
    public static IReadOnlyDictionary<string, Asset> Files => Assets.Value;

    public static void Map(WebApplication web)
    {
        var open = new PublicEndpoint();
        web.MapGet("/", (HttpContext http) => Serve(http, "index.html")).WithMetadata(open).ExcludeFromDescription();
        web.MapGet("/ui/{**path}", (string path, HttpContext http) => Serve(http, path)).WithMetadata(open).ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext http, string path)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        if (!Assets.Value.TryGetValue(path, out var asset))
        {
            return TypedResults.NotFound();
        }

        // The page is looked at again on every load (a new server may bring new files); the files are validated by ETag.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (NotModified(http.Request, asset.ETag))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Bytes(asset.Body, asset.Type);
    }

    /// <summary>
    /// If-None-Match as RFC 9110 reads it: a list of tags (in one header or several), compared weakly, or <c>*</c>.
    /// </summary>
    private static bool NotModified(HttpRequest request, string etag)
    {
        var tags = request.GetTypedHeaders().IfNoneMatch;
        var ours = new EntityTagHeaderValue(etag);
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(ours, useStrongComparison: false));
    }

    private static FrozenDictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        var files = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("dashboard/", StringComparison.Ordinal)))
        {
            var path = name["dashboard/".Length..].Replace('\\', '/');
            if (!Types.TryGetValue(Path.GetExtension(path), out var type))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var body = copy.ToArray();
            files[path] = new Asset(body, type, $"\"{Convert.ToHexStringLower(SHA256.HashData(body))[..16]}\"");
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
