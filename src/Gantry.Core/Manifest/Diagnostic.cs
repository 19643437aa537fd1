using System.Globalization;

namespace Gantry.Core.Manifest;

/// <summary>How bad a diagnostic is. Errors make a manifest invalid; warnings do not.</summary>
public enum Severity
{
    Warning,
    Error,
}

/// <summary>A 1-based line and column in a manifest file.</summary>
public readonly record struct SourcePosition(int Line, int Column) : IComparable<SourcePosition>
{
    public static SourcePosition Start { get; } = new(1, 1);

    public int CompareTo(SourcePosition other) =>
        Line != other.Line ? Line.CompareTo(other.Line) : Column.CompareTo(other.Column);

    public SourcePosition Advance(int columns) => this with { Column = Column + columns };

    public static bool operator <(SourcePosition left, SourcePosition right) => left.CompareTo(right) < 0;

    public static bool operator >(SourcePosition left, SourcePosition right) => left.CompareTo(right) > 0;

    public static bool operator <=(SourcePosition left, SourcePosition right) => left.CompareTo(right) <= 0;

    public static bool operator >=(SourcePosition left, SourcePosition right) => left.CompareTo(right) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Line}:{Column}");
}

/// <summary>One problem found in a manifest, with its exact position.</summary>
public sealed record Diagnostic(string File, SourcePosition Position, Severity Severity, string Message)
{
    public int Line => Position.Line;

    public int Column => Position.Column;

    /// <summary>The compiler-style form: <c>FILE:LINE:COLUMN: error: MESSAGE</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{File}:{Line}:{Column}: {(Severity == Severity.Error ? "error" : "warning")}: {Message}");
}

/// <summary>Collects diagnostics for one file; reports them sorted by position.</summary>
public sealed class DiagnosticBag
{
    private readonly List<Diagnostic> items = [];

    public DiagnosticBag(string file) => File = file;

    public string File { get; }

    public bool HasErrors { get; private set; }

    public int Count => items.Count;

    public void Error(SourcePosition at, string message)
    {
        HasErrors = true;
        items.Add(new Diagnostic(File, at, Severity.Error, message));
    }

    public void Warning(SourcePosition at, string message) =>
        items.Add(new Diagnostic(File, at, Severity.Warning, message));

    /// <summary>Sorted by position; at the same position errors come first, then in the order found.</summary>
    public IReadOnlyList<Diagnostic> ToSortedList() =>
        [.. items.Select((d, i) => (d, i))
            .OrderBy(x => x.d.Position)
            .ThenByDescending(x => x.d.Severity)
            .ThenBy(x => x.i)
            .Select(x => x.d)];
}
