namespace Gantry.Core.Gates.Reports;

/// <summary>
/// Coverage by source file and line, as read from one or more reports of any format: a line is covered when
/// any report says so, and counted once however many reports (or classes, or methods) list it; a line's
/// branches are the most any report gives it. Paths are compared with '/' separators; a relative path that is
/// the end of exactly one absolute path of another report is that file (Cobertura's relative filenames
/// against LCOV's absolute ones).
/// </summary>
public sealed class CoverageData
{
    private readonly Dictionary<string, Dictionary<int, bool>> lines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, (int Covered, int Total)>> branches = new(StringComparer.Ordinal);

    private int extraCovered, extraValid;

    public int SourceFiles => lines.Keys.Union(branches.Keys).Count();

    /// <summary>Totals of a report that lists no lines (only its own figures): added as they are, since they cannot be merged.</summary>
    public void Totals(int covered, int valid)
    {
        extraCovered += covered;
        extraValid += valid;
    }

    public void Line(string file, int line, bool hit)
    {
        var map = For(lines, file);
        map[line] = map.GetValueOrDefault(line) || hit;
    }

    public void Branches(string file, int line, int covered, int total)
    {
        var map = For(branches, file);
        var seen = map.GetValueOrDefault(line);
        map[line] = (Math.Max(seen.Covered, covered), Math.Max(seen.Total, total));
    }

    /// <summary>The figures, with the reports they came from.</summary>
    public CoverageSummary Summary(IEnumerable<string> reports)
    {
        var names = reports.ToList();
        return new CoverageSummary(
            lines.Values.Sum(m => m.Values.Count(hit => hit)) + extraCovered,
            lines.Values.Sum(m => m.Count) + extraValid,
            branches.Values.Sum(m => m.Values.Sum(b => b.Covered)),
            branches.Values.Sum(m => m.Values.Sum(b => b.Total)),
            [.. names])
        { SourceFiles = SourceFiles, Reports = names.Count };
    }

    /// <summary>One set of coverage from several reports, merged by source file and line.</summary>
    public static CoverageData Merge(IEnumerable<CoverageData> reports)
    {
        var all = reports.ToList();
        var rooted = all.SelectMany(d => d.lines.Keys.Concat(d.branches.Keys)).Where(IsRooted).ToHashSet(StringComparer.Ordinal);
        var merged = new CoverageData();
        foreach (var data in all)
        {
            merged.Totals(data.extraCovered, data.extraValid);
            foreach (var (file, map) in data.lines)
            {
                foreach (var (line, hit) in map)
                {
                    merged.Line(Resolve(file, rooted), line, hit);
                }
            }

            foreach (var (file, map) in data.branches)
            {
                foreach (var (line, (covered, total)) in map)
                {
                    merged.Branches(Resolve(file, rooted), line, covered, total);
                }
            }
        }

        return merged;
    }

    /// <summary>A path as reports are compared: '/' separators, no "./" segments.</summary>
    public static string Normalize(string path)
    {
        var p = path.Trim().Replace('\\', '/');
        while (p.Contains("/./", StringComparison.Ordinal))
        {
            p = p.Replace("/./", "/", StringComparison.Ordinal);
        }

        while (p.StartsWith("./", StringComparison.Ordinal))
        {
            p = p[2..];
        }

        return p;
    }

    private static bool IsRooted(string path) => path.StartsWith('/') || (path.Length > 2 && path[1] == ':' && path[2] == '/');

    private static string Resolve(string file, HashSet<string> rooted)
    {
        if (IsRooted(file))
        {
            return file;
        }

        var candidates = rooted.Where(r => r.EndsWith("/" + file, StringComparison.Ordinal)).Take(2).ToList();
        return candidates.Count == 1 ? candidates[0] : file;
    }

    private static Dictionary<int, T> For<T>(Dictionary<string, Dictionary<int, T>> maps, string file)
    {
        var key = Normalize(file);
        if (!maps.TryGetValue(key, out var map))
        {
            maps[key] = map = [];
        }

        return map;
    }
}
