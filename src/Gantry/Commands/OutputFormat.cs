using System.CommandLine;

namespace Gantry.Commands;

public enum OutputFormat
{
    Text,
    Json,
}

internal static class CommonOptions
{
    /// <summary><c>--output text|json</c>, shared by every read command.</summary>
    public static Option<OutputFormat> Output() => new("--output", "-o")
    {
        Description = "Output format: text or json.",
        DefaultValueFactory = _ => OutputFormat.Text,
    };

    /// <summary><c>-f/--file</c>: the manifest, gantry.yaml in the current folder by default.</summary>
    public static Option<string> File() => new("--file", "-f")
    {
        Description = "The manifest file.",
        DefaultValueFactory = _ => Core.Manifest.ManifestLoader.DefaultFileName,
        HelpName = "FILE",
    };
}
