using System.Globalization;

namespace Gantry.Core.Rollouts;

/// <summary>
/// What a deployer may hand an instance with <c>--set</c> and <c>--secret</c>: application settings, never code
/// on the host. Names that make a loader, a runtime or a shell run something of the caller's choosing are
/// refused unless the service's manifest allows them by name (<c>variables.allow</c>); values may not hold
/// control characters; counts and sizes are bounded so one request cannot weigh on every later one.
/// </summary>
public static class DeployVariables
{
    /// <summary>Most variables one deploy may give.</summary>
    public const int MaxCount = 200;

    /// <summary>Longest variable name.</summary>
    public const int MaxNameLength = 128;

    /// <summary>Longest value (a certificate or a small JSON document fits).</summary>
    public const int MaxValueLength = 16 * 1024;

    /// <summary>Most characters of names and values together.</summary>
    public const int MaxTotalLength = 256 * 1024;

    /// <summary>Longest reason or comment a person may give with a command.</summary>
    public const int MaxReasonLength = 2000;

    /// <summary>Prefixes of names that load code or change how a program starts (matched without regard to case).</summary>
    public static IReadOnlyList<string> DeniedPrefixes { get; } =
    [
        "LD_", "DOTNET_", "COREHOST_", "CORECLR_", "COMPLUS_", "ASPNETCORE_HOSTINGSTARTUP", "MONO_", "PYTHON", "NODE_", "NPM_CONFIG_",
        "PERL", "RUBY", "GEM_", "BUNDLE_", "JAVA_", "_JAVA_", "JDK_JAVA_", "CLASSPATH", "GCONV_", "MALLOC_", "GLIBC_", "BASH_", "GIT_",
        "LUA_", "PHP", "GANTRY_", "OPENSSL_", "SSL_", "GODEBUG", "GOFLAGS", "R_", "TCL", "JULIA_",
    ];

    /// <summary>Whole names that change how a program or a shell behaves.</summary>
    public static IReadOnlyList<string> DeniedNames { get; } =
    [
        "PATH", "HOME", "SHELL", "ENV", "IFS", "PS4", "SHELLOPTS", "CDPATH", "TMPDIR", "LOCPATH", "NLSPATH", "HOSTALIASES", "RES_OPTIONS",
        "LOCALDOMAIN", "TZDIR", "USER", "LOGNAME", "ZDOTDIR", "PROMPT_COMMAND", "EDITOR", "VISUAL", "PAGER", "LESSOPEN", "LESSCLOSE",
        "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
        "ALL_PROXY", "NO_PROXY", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE",
    ];

    /// <summary>True when the name is one a deployer may not set unless the manifest allows it.</summary>
    public static bool IsDenied(string name) =>
        DeniedNames.Any(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase))
        || DeniedPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether the manifest's <c>variables.allow</c> list names it: an exact name, or a prefix ending in '*'.</summary>
    public static bool IsAllowed(string name, IEnumerable<string> allow) =>
        allow.Any(a => a.EndsWith('*') ? name.StartsWith(a[..^1], StringComparison.Ordinal) : string.Equals(a, name, StringComparison.Ordinal));

    /// <summary>Why these variables may not be given (a sentence for the deployer), or null when they may; <c>TooLarge</c> says a 413 fits better than a 400.</summary>
    public static (string Message, bool TooLarge)? Check(IReadOnlyDictionary<string, string>? variables, IEnumerable<string> allow)
    {
        if (variables is null || variables.Count == 0)
        {
            return null;
        }

        if (variables.Count > MaxCount)
        {
            return (string.Create(CultureInfo.InvariantCulture, $"{variables.Count} variables: a deploy may give at most {MaxCount}"), true);
        }

        var total = 0L;
        var allowed = allow as IReadOnlyCollection<string> ?? [.. allow];
        foreach (var (name, value) in variables)
        {
            total += name.Length + (value?.Length ?? 0);
            if (name.Length > MaxNameLength)
            {
                return (string.Create(CultureInfo.InvariantCulture, $"variable name '{name[..32]}...' is {name.Length} characters long: at most {MaxNameLength}"), true);
            }

            if (value is null)
            {
                return ($"variable {name} has no value", false);
            }

            if (value.Length > MaxValueLength)
            {
                return (string.Create(CultureInfo.InvariantCulture, $"the value of {name} is {value.Length} characters long: at most {MaxValueLength}"), true);
            }

            if (value.Any(char.IsControl))
            {
                var at = value.IndexOf(value.First(char.IsControl), StringComparison.Ordinal);
                return (string.Create(CultureInfo.InvariantCulture, $"the value of {name} holds a control character (U+{(int)value[at]:X4} at position {at + 1}): line breaks, tabs and escapes are not allowed in variables"), false);
            }

            if (IsDenied(name) && !IsAllowed(name, allowed))
            {
                return ($"variable {name} may not be set by a deploy: it changes how programs on the host load or start (loader, runtime or shell hook). "
                    + "If the service really needs it, name it in the service's variables.allow in the manifest", false);
            }
        }

        return total > MaxTotalLength
            ? (string.Create(CultureInfo.InvariantCulture, $"the variables take {total} characters: at most {MaxTotalLength} in one deploy"), true)
            : null;
    }

    /// <summary>Why a reason or comment is refused (too long), or null.</summary>
    public static string? CheckReason(string? reason, string what = "reason") =>
        reason is { Length: > MaxReasonLength }
            ? string.Create(CultureInfo.InvariantCulture, $"the {what} is {reason.Length} characters long: at most {MaxReasonLength}")
            : null;
}
