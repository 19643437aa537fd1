using System.CommandLine;
using Gantry.Storage.Postgres;
using Gantry.Storage.Sql;
using Gantry.Storage.Sqlite;
using Gantry.Storage.Transfer;

namespace Gantry.Commands;

/// <summary><c>gantry store migrate --from sqlite:PATH --to postgres://...</c>: the whole history into an empty store of another kind.</summary>
internal static class StoreCommand
{
    public static Command Create(TimeProvider time)
    {
        var from = new Option<string>("--from") { Description = "The store to read: sqlite:PATH (a gantry.db or its data directory) or postgres://... .", HelpName = "STORE", Required = true };
        var to = new Option<string>("--to") { Description = "The empty store to fill: postgres://user:password@host:port/database or sqlite:PATH.", HelpName = "STORE", Required = true };
        var migrate = new Command("migrate", "Move every rollout, event, release, analysis, incident, token and the audit chain into an empty store of another kind, with the same ids; the chain is verified there.") { from, to };
        migrate.SetAction(async (parse, ct) =>
        {
            var error = parse.InvocationConfiguration.Error;
            var output = parse.InvocationConfiguration.Output;
            SqlStore? source = null;
            SqlStore? target = null;
            try
            {
                source = Open(parse.GetValue(from)!, time, mustExist: true);
                target = Open(parse.GetValue(to)!, time, mustExist: false);
                var result = await StoreCopy.CopyAsync(source, target, ct);
                await output.WriteLineAsync($"gantry store migrate: {result.Rows} rows from {source.Describe} to {target.Describe}");
                await output.WriteLineAsync("  " + string.Join(", ", result.Tables.Where(t => t.Rows > 0).Select(t => $"{t.Table} {t.Rows}")));
                await output.WriteLineAsync($"  audit chain: {result.Audit.Message}");
                return result.Audit.Intact ? ExitCodes.Success : ExitCodes.Failed;
            }
            catch (StoreCopyRefusedException ex)
            {
                await error.WriteLineAsync($"gantry: {ex.Message}; nothing was changed");
                return ExitCodes.Failed;
            }
            catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IOException)
            {
                await error.WriteLineAsync($"gantry: {ex.Message}");
                return ex is ArgumentException ? ExitCodes.BadInput : ExitCodes.Failed;
            }
            finally
            {
                if (target is not null)
                {
                    await target.DisposeAsync();
                }

                if (source is not null)
                {
                    await source.DisposeAsync();
                }
            }
        });
        return new Command("store", "The store itself: move it to another kind of database.") { migrate };
    }

    /// <summary>sqlite:PATH (a file, or a data directory holding gantry.db) or a PostgreSQL URL; a SQLite store in use by a server is refused.</summary>
    private static SqlStore Open(string location, TimeProvider time, bool mustExist)
    {
        if (PostgresLocation.IsPostgres(location))
        {
            return PostgresStore.Open(location, time);
        }

        if (!location.StartsWith("sqlite:", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{PostgresLocation.Redact(location)}' is not a store: give sqlite:PATH or postgres://user:password@host:port/database");
        }

        var path = Path.GetFullPath(location["sqlite:".Length..]);
        if (Directory.Exists(path))
        {
            path = Path.Combine(path, "gantry.db");
        }

        if (mustExist && !File.Exists(path))
        {
            throw new ArgumentException($"{path} does not exist");
        }

        var folder = Path.GetDirectoryName(path)!;
        if (DownCommand.IsLocked(folder))
        {
            throw new InvalidOperationException($"a gantry server is using {folder}: stop it first");
        }

        return SqliteStore.Open(path, time);
    }
}
