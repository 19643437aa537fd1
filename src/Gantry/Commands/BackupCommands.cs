using System.CommandLine;
using Gantry.Storage.Backups;

namespace Gantry.Commands;

/// <summary>
/// <c>gantry backup --to FILE</c>: a consistent copy of the running server's store, written and verified here;
/// <c>gantry backup verify FILE</c>: restores it into a temporary store and says what it holds;
/// <c>gantry restore --from FILE</c>: into the empty store of a data directory whose server is stopped.
/// </summary>
internal static class BackupCommands
{
    public static IEnumerable<Command> Create(TimeProvider time) => [Backup(time), Restore(time)];

    private static Command Backup(TimeProvider time)
    {
        var server = RolloutCommands.ServerOption();
        var to = new Option<string>("--to") { Description = "The file to write (its owner's only; replaced if it exists).", HelpName = "FILE", Required = true };
        var command = new Command("backup", "Back up the server's store (rollouts, releases, evidence, incidents, the audit trail) to a file, and verify it.") { to, server };
        command.SetAction((parse, ct) => RolloutCommands.RunAsync(parse, server, async (api, writer) =>
        {
            var file = Path.GetFullPath(parse.GetValue(to)!);
            var partial = file + ".partial";
            try
            {
                await using (var source = await api.BackupAsync(ct))
                await using (var target = File.Create(partial))
                {
                    if (!OperatingSystem.IsWindows())
                    {
                        File.SetUnixFileMode(partial, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                    }

                    await source.CopyToAsync(target, ct);
                }

                var summary = await StoreBackup.VerifyAsync(partial, time, ct);
                File.Move(partial, file, overwrite: true);
                await writer.WriteLineAsync($"gantry backup: {file} ({new FileInfo(file).Length} bytes), verified");
                await WriteAsync(writer, summary);
                return summary.Audit.Intact ? ExitCodes.Success : ExitCodes.Failed;
            }
            catch (BackupRefusedException ex)
            {
                throw new Client.ApiException(ExitCodes.Failed, $"the backup the server sent does not verify: {ex.Message}");
            }
            finally
            {
                File.Delete(partial);
            }
        }));
        command.Subcommands.Add(Verify(time));
        return command;
    }

    private static Command Verify(TimeProvider time)
    {
        var file = new Argument<string>("FILE") { Description = "A backup written by gantry backup or by the server's schedule." };
        var command = new Command("verify", "Restore a backup into a temporary store, check its integrity and audit chain, and say what it holds; exit 1 when it cannot be used.") { file };
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                var summary = await StoreBackup.VerifyAsync(parse.GetValue(file)!, time, ct);
                await WriteAsync(parse.InvocationConfiguration.Output, summary);
                if (!summary.Audit.Intact)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"gantry: {parse.GetValue(file)}: the audit chain does not hold");
                    return ExitCodes.Failed;
                }

                return ExitCodes.Success;
            }
            catch (BackupRefusedException ex)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync($"gantry: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    private static Command Restore(TimeProvider time)
    {
        var from = new Option<string>("--from") { Description = "The backup to restore.", HelpName = "FILE", Required = true };
        var manifest = CommonOptions.File();
        var data = new Option<string?>("--data") { Description = "The data directory to restore into (default: .gantry beside the manifest); its store must be empty.", HelpName = "DIR" };
        var store = ServerCommand.StoreOption();
        store.Description = "Restore into this empty PostgreSQL store instead (default: $GANTRY_STORE, else the data directory's SQLite file).";
        var command = new Command("restore", "Restore a verified backup into an empty store: a data directory's (its server stopped) or a PostgreSQL database; the restore is recorded in the audit trail.") { from, manifest, data, store };
        command.SetAction(async (parse, ct) =>
        {
            var dataDir = Path.GetFullPath(parse.GetValue(data) ?? ServerCommand.DefaultDataDirectory(parse.GetValue(manifest)!));
            var error = parse.InvocationConfiguration.Error;
            var (location, bad) = ServerCommand.StoreOf(parse, store);
            if (bad is not null)
            {
                await error.WriteLineAsync($"gantry: --store: {bad}");
                return ExitCodes.BadInput;
            }

            if (location is not null)
            {
                return await RestoreIntoAsync(parse, parse.GetValue(from)!, location, time, ct);
            }

            if (DownCommand.IsLocked(dataDir))
            {
                await error.WriteLineAsync($"gantry: a gantry server is using {dataDir}: stop it first");
                return ExitCodes.Failed;
            }

            try
            {
                var summary = await StoreBackup.RestoreAsync(parse.GetValue(from)!, dataDir, $"{Environment.UserName} (gantry restore)", time, ct);
                await parse.InvocationConfiguration.Output.WriteLineAsync($"gantry restore: {StoreBackup.DatabaseOf(dataDir)} restored from {parse.GetValue(from)}");
                await WriteAsync(parse.InvocationConfiguration.Output, summary);
                return ExitCodes.Success;
            }
            catch (BackupRefusedException ex)
            {
                await error.WriteLineAsync($"gantry: {ex.Message}; nothing was changed");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    private static async Task<int> RestoreIntoAsync(ParseResult parse, string file, string location, TimeProvider time, CancellationToken ct)
    {
        try
        {
            await using var target = Storage.Postgres.PostgresStore.Open(location, time);
            var summary = await StoreBackup.RestoreIntoAsync(file, target, $"{Environment.UserName} (gantry restore)", time, ct);
            await parse.InvocationConfiguration.Output.WriteLineAsync($"gantry restore: {target.Describe} restored from {file}");
            await WriteAsync(parse.InvocationConfiguration.Output, summary);
            return ExitCodes.Success;
        }
        catch (BackupRefusedException ex)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"gantry: {ex.Message}; nothing was changed");
            return ExitCodes.Failed;
        }
        catch (InvalidOperationException ex)
        {
            await parse.InvocationConfiguration.Error.WriteLineAsync($"gantry: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    private static async Task WriteAsync(TextWriter writer, BackupSummary summary)
    {
        foreach (var line in summary.Lines())
        {
            await writer.WriteLineAsync("  " + line);
        }
    }
}
