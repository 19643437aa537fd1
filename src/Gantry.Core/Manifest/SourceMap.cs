namespace Gantry.Core.Manifest;

/// <summary>
/// Where each value of a manifest was written, by path (<c>services.shop.listen</c>,
/// <c>services.shop.strategy.canary.steps[2]</c>); a key's own position is under <c>PATH@key</c>.
/// </summary>
public sealed class SourceMap
{
    private readonly Dictionary<string, SourcePosition> positions = new(StringComparer.Ordinal);

    public string File { get; }

    public SourceMap(string file) => File = file;

    internal void Record(string path, SourcePosition at) => positions.TryAdd(path, at);

    public SourcePosition? Find(string path) => positions.TryGetValue(path, out var p) ? p : null;

    public IEnumerable<string> Paths => positions.Keys;
}
