using System.Globalization;
using System.Text;
using Gantry.Core.Manifest.Yaml;
using Gantry.Core.Traffic;

namespace Gantry.Core.Manifest;

/// <summary>The outcome of loading: a manifest when there are no errors, and every diagnostic, sorted by position.</summary>
public sealed record ManifestLoadResult(GantryManifest? Manifest, IReadOnlyList<Diagnostic> Diagnostics, SourceMap Positions)
{
    public bool Succeeded => Manifest is not null;

    public int ErrorCount => Diagnostics.Count(d => d.Severity == Severity.Error);

    public int WarningCount => Diagnostics.Count(d => d.Severity == Severity.Warning);
}

/// <summary>
/// Loads <c>gantry.yaml</c>: guards the file (missing, empty, binary, too large, not UTF-8), parses YAML
/// with positions, reads and validates every section, and reports every problem at once.
/// </summary>
public static class ManifestLoader
{
    /// <summary>Manifests larger than this are refused before they are parsed.</summary>
    public const long MaxBytes = 4 * 1024 * 1024;

    public const string DefaultFileName = "gantry.yaml";

    /// <summary>
    /// Loads a file. <paramref name="consumed"/>, when given, collects "shape.key" for every key the reader asked for;
    /// <paramref name="router"/> is what the configured traffic router can do (steps that need more are refused).
    /// </summary>
    public static ManifestLoadResult LoadFile(string path, ISet<string>? consumed = null, RouterCapabilities router = RouterCapability.Builtin)
    {
        var bag = new DiagnosticBag(path);
        var text = ReadGuarded(path, bag);
        return text is null ? Fail(bag) : Load(text, bag, consumed, router);
    }

    public static ManifestLoadResult LoadText(string text, string file = DefaultFileName, ISet<string>? consumed = null, RouterCapabilities router = RouterCapability.Builtin) =>
        Load(text, new DiagnosticBag(file), consumed, router);

    private static ManifestLoadResult Load(string text, DiagnosticBag bag, ISet<string>? consumed, RouterCapabilities router)
    {
        var positions = new SourceMap(bag.File);
        var root = YamlTreeReader.Read(text, bag);
        GantryManifest? manifest = null;
        if (!bag.HasErrors)
        {
            manifest = new ManifestReader(new ReadContext(bag, positions, consumed) { Router = router }).Read(root);
        }

        return new ManifestLoadResult(bag.HasErrors ? null : manifest, bag.ToSortedList(), positions);
    }

    private static ManifestLoadResult Fail(DiagnosticBag bag) => new(null, bag.ToSortedList(), new SourceMap(bag.File));

    private static string? ReadGuarded(string path, DiagnosticBag bag)
    {
        var at = SourcePosition.Start;
        if (Directory.Exists(path))
        {
            bag.Error(at, $"this is a directory; pass the manifest file (such as {Path.Combine(path, DefaultFileName)})");
            return null;
        }

        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                bag.Error(at, "no such file");
                return null;
            }

            if (info.Length > MaxBytes)
            {
                bag.Error(at, string.Create(CultureInfo.InvariantCulture, $"the file is {info.Length / 1024.0 / 1024.0:0.0} MB; a manifest may be at most {MaxBytes / 1024 / 1024} MB"));
                return null;
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            bag.Error(at, "cannot read the file: " + ex.Message);
            return null;
        }

        var nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0)
        {
            bag.Error(at, string.Create(CultureInfo.InvariantCulture, $"this is a binary file (a NUL byte at offset {nul}), not a YAML manifest"));
            return null;
        }

        try
        {
            var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
            return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
        }
        catch (DecoderFallbackException ex)
        {
            bag.Error(at, string.Create(CultureInfo.InvariantCulture, $"the file is not UTF-8 text (invalid byte at offset {ex.Index})"));
            return null;
        }
    }
}
