namespace Gantry.NativeCli;

/// <summary>How an option of a command line is written: with one value, repeatable with a value each, or alone.</summary>
internal enum OptionKind
{
    Value,
    Repeated,
    Flag,
}

/// <summary>An option of a command line this client reads: its names (the first is the one it is known by) and kind.</summary>
internal sealed record OptionSpec(OptionKind Kind, params string[] Names);

/// <summary>
/// A command line read strictly: one argument, and only options named in the spec, each written as <c>--name value</c>.
/// Anything the full program might read otherwise (an unknown or repeated option, <c>--name=value</c>, a value that
/// looks like an option, a flag given a value, a response file, <c>--</c>, help) gives null, and the full program reads
/// the line: this client never answers a line it might have read differently.
/// </summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> values = new(StringComparer.Ordinal);

    private CommandLine(string argument) => Argument = argument;

    public string Argument { get; }

    public string? Value(string name) => values.TryGetValue(name, out var found) ? found[0] : null;

    public IReadOnlyList<string> Values(string name) => values.TryGetValue(name, out var found) ? found : [];

    public bool Has(string name) => values.ContainsKey(name);

    public static CommandLine? Read(ReadOnlySpan<string> args, params OptionSpec[] options)
    {
        string? argument = null;
        var seen = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var token = args[i];
            if (token.Length == 0 || token[0] == '@' || token == "--")
            {
                return null;
            }

            if (token[0] != '-')
            {
                if (argument is not null)
                {
                    return null;
                }

                argument = token;
                continue;
            }

            if (Array.Find(options, o => Array.IndexOf(o.Names, token) >= 0) is not { } option)
            {
                return null;
            }

            var name = option.Names[0];
            if (option.Kind != OptionKind.Repeated && seen.ContainsKey(name))
            {
                return null;
            }

            var next = i + 1 < args.Length ? args[i + 1] : null;
            if (option.Kind == OptionKind.Flag)
            {
                if (next is not null && (next.Equals("true", StringComparison.OrdinalIgnoreCase) || next.Equals("false", StringComparison.OrdinalIgnoreCase)))
                {
                    return null;
                }

                seen[name] = [];
                continue;
            }

            if (next is null || next.Length == 0 || next[0] is '-' or '@')
            {
                return null;
            }

            (seen.TryGetValue(name, out var list) ? list : seen[name] = []).Add(next);
            i++;
        }

        if (argument is null)
        {
            return null;
        }

        var line = new CommandLine(argument);
        foreach (var (name, list) in seen)
        {
            line.values[name] = list;
        }

        return line;
    }
}
