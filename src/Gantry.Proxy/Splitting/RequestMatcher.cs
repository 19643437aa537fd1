using System.Text.RegularExpressions;
using Gantry.Core;
using Gantry.Core.Manifest;
using Microsoft.AspNetCore.Http;

namespace Gantry.Proxy.Splitting;

/// <summary>A compiled set of header/cookie matches; all must hold.</summary>
public sealed class RequestMatcher
{
    private readonly (RouteMatch Match, Regex? Regex)[] matches;

    public RequestMatcher(ValueList<RouteMatch> matches) =>
        this.matches = [.. matches.Select(m => (m, m.Kind == MatchKind.Regex ? new Regex(m.Value, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50)) : null))];

    public bool IsEmpty => matches.Length == 0;

    public bool Matches(HttpRequest request)
    {
        foreach (var (match, regex) in matches)
        {
            string? value = match.Source == MatchSource.Header
                ? request.Headers.TryGetValue(match.Name, out var h) ? h.ToString() : null
                : request.Cookies[match.Name];
            if (value is null)
            {
                return false;
            }

            var ok = match.Kind switch
            {
                MatchKind.Exact => string.Equals(value, match.Value, StringComparison.Ordinal),
                MatchKind.Prefix => value.StartsWith(match.Value, StringComparison.Ordinal),
                _ => SafeRegex(regex!, value),
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool SafeRegex(Regex regex, string value)
    {
        try
        {
            return regex.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
