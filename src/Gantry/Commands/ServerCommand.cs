using System.CommandLine;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gantry.Commands;

/// <summary><c>gantry server</c>: the embedded control plane (store, runtime, router, reconciler, API) for one manifest.</summary>
internal static class ServerCommand
{
    /// <summary>The data directory when none is given: <c>.gantry</c> beside the manifest.</summary>
    public static string DefaultDataDirectory(string manifestPath) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(manifestPath))!, ".gantry");

    /// <summary>Where to keep the store instead of the data directory's SQLite file: --store, else GANTRY_STORE (keeps a password out of the process list).</summary>
    public static Option<string?> StoreOption() => new("--store")
    {
        Description = "Keep the store in PostgreSQL: postgres://user:password@host:port/database (default: $GANTRY_STORE, else SQLite in the data directory).",
        HelpName = "URL",
    };

    /// <summary>The PostgreSQL location asked for (null: SQLite), or why it cannot be used.</summary>
    public static (string? Location, string? Error) StoreOf(ParseResult parse, Option<string?> option)
    {
        var location = parse.GetValue(option) ?? Environment.GetEnvironmentVariable("GANTRY_STORE");
        if (string.IsNullOrWhiteSpace(location))
        {
            return (null, null);
        }

        try
        {
            Storage.Postgres.PostgresLocation.Parse(location);
            return (location, null);
        }
        catch (ArgumentException ex)
        {
            return (null, ex.Message);
        }
    }

    public static Command Create(TimeProvider time)
    {
        var file = CommonOptions.File();
        var data = new Option<string?>("--data") { Description = "Where rollouts, events and instance logs are kept (default: .gantry beside the manifest).", HelpName = "DIR" };
        var listen = new Option<string>("--listen") { Description = "Where the API listens.", DefaultValueFactory = _ => ServerOptions.DefaultListen.ToString(), HelpName = "ADDRESS" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "The API's certificate (PEM): serve HTTPS. Needs --tls-key.", HelpName = "FILE" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "The private key of --tls-cert (PEM).", HelpName = "FILE" };
        var publicMetrics = new Option<bool?>("--public-metrics") { Description = "Answer /metrics and the API description without a token (default: only when listening on loopback).", HelpName = "true|false" };
        var dataPlane = new Option<string>("--data-plane")
        {
            Description = "detached: the router runs as its own process and instances outlive the server, which adopts them when it starts again ('gantry down' stops them); attached: both stop with the server.",
            DefaultValueFactory = _ => "detached",
            HelpName = "detached|attached",
        };
        dataPlane.AcceptOnlyFromAmong("detached", "attached");
        var backupDir = new Option<string?>("--backup-dir") { Description = "Write a backup of the store into DIR every --backup-every, removing those older than --backup-keep.", HelpName = "DIR" };
        var backupEvery = new Option<string>("--backup-every") { Description = "How often to back up with --backup-dir.", DefaultValueFactory = _ => "24h", HelpName = "DURATION" };
        var backupKeep = new Option<string>("--backup-keep") { Description = "How long scheduled backups are kept.", DefaultValueFactory = _ => "30d", HelpName = "DURATION" };
        var store = StoreOption();
        var replica = new Option<string?>("--replica")
        {
            Description = "With --store: this server's name among the servers of the store (default: the machine's name); servers of one store on one machine share its data directory, each with its own name.",
            HelpName = "NAME",
        };
        var routerAddress = new Option<string?>("--router-address")
        {
            Description = "The address this machine's router listens on for every service, in place of the manifest's host (ports as written); replicas with a router each on one host give each its own.",
            HelpName = "ADDRESS",
        };
        var resync = new Option<string>("--resync") { Description = "How often every service is looked at even if nothing said it changed (commands, commits, instances and timers wake the loop at once).", DefaultValueFactory = _ => "30s", HelpName = "DURATION" };
        var noSpare = new Option<bool>("--no-router-spare") { Description = "With the data plane detached: keep no warmed-up spare router (it serves within milliseconds when the router ends; without it a new router serves again about half a second after the old one ends)." };
        var command = new Command("server", "Run the control plane: rollouts, the built-in router and the REST API, for one manifest.") { file, data, listen, tlsCert, tlsKey, publicMetrics, dataPlane, store, replica, routerAddress, noSpare, backupDir, backupEvery, backupKeep, resync };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (Endpoint.TryParse(parse.GetValue(listen)!, out var address) is { } bad)
            {
                await error.WriteLineAsync($"gantry: --listen: {bad.Message}");
                return ExitCodes.BadInput;
            }

            var path = parse.GetValue(file)!;
            var loaded = ManifestLoader.LoadFile(path);
            if (loaded.Manifest is not { } manifest)
            {
                foreach (var d in loaded.Diagnostics)
                {
                    await error.WriteLineAsync(d.ToString());
                }

                return ExitCodes.BadInput;
            }

            if (parse.GetValue(tlsCert) is null != parse.GetValue(tlsKey) is null)
            {
                await error.WriteLineAsync("gantry: --tls-cert and --tls-key go together");
                return ExitCodes.BadInput;
            }

            Server.Backups.BackupSchedule? backups = null;
            if (parse.GetValue(backupDir) is { } folder)
            {
                if (DurationSyntax.TryParse(parse.GetValue(backupEvery)!, out var every) is { } badEvery || DurationSyntax.TryParse(parse.GetValue(backupKeep)!, out var keep) is { } badKeep)
                {
                    await error.WriteLineAsync($"gantry: --backup-every '{parse.GetValue(backupEvery)}' and --backup-keep '{parse.GetValue(backupKeep)}' must be durations such as 24h or 30d");
                    return ExitCodes.BadInput;
                }

                backups = new Server.Backups.BackupSchedule(Path.GetFullPath(folder), every, keep);
            }

            if (DurationSyntax.TryParse(parse.GetValue(resync)!, out var resyncEvery) is not null || resyncEvery < TimeSpan.FromSeconds(1))
            {
                await error.WriteLineAsync($"gantry: --resync '{parse.GetValue(resync)}' must be a duration of at least 1s, such as 30s or 5m");
                return ExitCodes.BadInput;
            }

            if (StoreOf(parse, store) is { Error: { } badStore })
            {
                await error.WriteLineAsync($"gantry: --store: {badStore}");
                return ExitCodes.BadInput;
            }

            if (parse.GetValue(replica) is not null && StoreOf(parse, store).Location is null)
            {
                await error.WriteLineAsync("gantry: --replica needs --store (replicas share a PostgreSQL store)");
                return ExitCodes.BadInput;
            }

            if (parse.GetValue(replica) is { } name && (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || name.StartsWith('.')))
            {
                await error.WriteLineAsync($"gantry: --replica: '{name}' must be 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'");
                return ExitCodes.BadInput;
            }

            if (parse.GetValue(routerAddress) is { } bind && (!System.Net.IPAddress.TryParse(bind, out _) || parse.GetValue(dataPlane) != "detached"))
            {
                await error.WriteLineAsync($"gantry: --router-address: '{bind}' must be an IP address, with the data plane detached");
                return ExitCodes.BadInput;
            }

            var dataDir = parse.GetValue(data) ?? DefaultDataDirectory(path);
            var tls = parse.GetValue(tlsCert) is { } cert ? new ApiTls(cert, parse.GetValue(tlsKey)!) : null;
            var detached = parse.GetValue(dataPlane) == "detached";
            var router = detached ? GantryLaunch.Self() : null;
            var options = new ServerOptions(dataDir, address!, Tls: tls, PublicMetrics: parse.GetValue(publicMetrics),
                RouterProcess: router is null ? null : new Server.Routers.RouterLaunch(router.FileName, router.RouterArguments(dataDir), parse.GetValue(noSpare) ? null : router.SpareArguments(dataDir))) { Backups = backups, Store = StoreOf(parse, store).Location, Replica = parse.GetValue(replica), RouterAddress = parse.GetValue(routerAddress), Resync = resyncEvery };
            using var loggers = ServerLogging.Create(dataDir, time);
            GantryServer server;
            try
            {
                server = await GantryServer.StartAsync(manifest, Path.GetDirectoryName(Path.GetFullPath(path))!, options, time, loggers, ct);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                await error.WriteLineAsync($"gantry: {ex.GetBaseException().Message}");
                return ExitCodes.Failed;
            }

            await using (server)
            {
                if (options.Warning is { } warning)
                {
                    await error.WriteLineAsync($"gantry: warning: {warning}");
                }

                await output.WriteLineAsync($"gantry server: API on {server.Address.ToString().TrimEnd('/')}, data in {dataDir}");
                await output.WriteLineAsync($"  dashboard on {server.Address.ToString().TrimEnd('/')}/ (sign in with a token: the local admin token below, or one from 'gantry token create')");
                await output.WriteLineAsync($"  store: {server.Store.Describe}");
                if (server.Leadership.Clustered)
                {
                    await output.WriteLineAsync($"  replica {server.Leadership.Replica}: drives the rollouts while it holds the store's lease, stands by (and answers the API) while another does");
                }
                await output.WriteLineAsync($"  local admin token in {Server.Access.TokenService.LocalAdminFile(dataDir)} (mode 0600): the gantry CLI run here or with --data {dataDir} uses it");
                foreach (var s in manifest.Services)
                {
                    await output.WriteLineAsync($"  service {s.Name}: {s.Replicas} replica(s), traffic on {(s.Tls is null ? "http" : "https")}://{(options.RouterAddress is { } host ? s.Listen with { Host = host } : s.Listen)}");
                }

                if (server.OrphansStopped > 0)
                {
                    await output.WriteLineAsync($"  stopped {server.OrphansStopped} instance process(es) left by a server that did not shut down");
                }

                if (server.Router is Server.Routers.RouterProcess process)
                {
                    await output.WriteLineAsync($"  data plane detached: router pid {process.Pid} (log {new Proxy.Control.RouterFiles(dataDir).LogFile}); instances outlive this server, 'gantry down --data {dataDir}' stops them");
                }

                if (backups is not null)
                {
                    await output.WriteLineAsync($"  backups: every {DurationSyntax.Format(backups.Every)} into {backups.Folder}, kept {DurationSyntax.Format(backups.Keep)} ('gantry backup verify FILE' checks one)");
                }

                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    await output.WriteLineAsync(detached ? "gantry server: stopping; the router and the instances keep serving" : "gantry server: stopping instances");
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }
}

/// <summary>The server's logs: JSON lines to standard error and to DATA/logs/server.log (0600).</summary>
internal static class ServerLogging
{
    public static Microsoft.Extensions.Logging.ILoggerFactory Create(string dataDirectory, TimeProvider time)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dataDirectory);
        }
        else
        {
            // Made as the server makes it: its owner's only.
            Directory.CreateDirectory(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return Microsoft.Extensions.Logging.LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Information);
            // Every API request at Information is five lines in two logs: the host's own request logging only from warnings.
            b.AddFilter("Microsoft.AspNetCore", Microsoft.Extensions.Logging.LogLevel.Warning);
            b.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            });
            b.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = Microsoft.Extensions.Logging.LogLevel.Trace);
            b.AddProvider(new Server.Logging.JsonFileLoggerProvider(Path.Combine(dataDirectory, "logs", "server.log"), time));
        });
    }
}
