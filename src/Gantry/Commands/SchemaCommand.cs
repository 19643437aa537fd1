using System.CommandLine;
using Gantry.Core.Manifest.Schema;

namespace Gantry.Commands;

/// <summary><c>gantry schema</c>: prints the manifest's JSON Schema, for editors.</summary>
internal static class SchemaCommand
{
    public static Command Create()
    {
        var command = new Command("schema", "Print the JSON Schema of gantry.yaml (for editor completion).");
        command.SetAction(async (parse, ct) =>
        {
            await parse.InvocationConfiguration.Output.WriteAsync(JsonSchemaWriter.Write().AsMemory(), ct);
            return ExitCodes.Success;
        });
        return command;
    }
}
