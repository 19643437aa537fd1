using System.CommandLine;
using Gantry.Core.Manifest.Schema;

namespace Gantry.Commands;

public enum SchemaFormat
{
    Json,
    Markdown,
}

/// <summary><c>gantry schema</c>: prints the manifest's JSON Schema (for editors) or its Markdown reference.</summary>
internal static class SchemaCommand
{
    public static Command Create()
    {
        var format = new Option<SchemaFormat>("--format")
        {
            Description = "json: the JSON Schema; markdown: the key-by-key reference.",
            DefaultValueFactory = _ => SchemaFormat.Json,
        };
        var command = new Command("schema", "Print the JSON Schema of gantry.yaml (for editor completion) or its reference.") { format };
        command.SetAction(async (parse, ct) =>
        {
            var text = parse.GetValue(format) == SchemaFormat.Markdown ? MarkdownReferenceWriter.Write() : JsonSchemaWriter.Write();
            await parse.InvocationConfiguration.Output.WriteAsync(text.AsMemory(), ct);
            return ExitCodes.Success;
        });
        return command;
    }
}
