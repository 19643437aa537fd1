using System.CommandLine;
using Gantry.Core.Manifest.Values;
using Gantry.Proxy.Hosting;
using Gantry.Proxy.Routing;

namespace Gantry.Commands;

/// <summary>
/// <c>gantry router --config FILE</c>: the built-in router on its own, serving the routing table in
/// FILE and reloading it when it changes; a bad edit is reported and the last good table keeps serving.
/// </summary>
internal static class RouterCommand
{
    public static Command Create(TimeProvider time)
    {
        var config = new Option<string?>("--config", "-c") { Description = "The routing-table file (YAML or JSON).", HelpName = "FILE" };
        var admin = new Option<string?>("--admin") { Description = "Address for /metrics and /health, such as 127.0.0.1:9901.", HelpName = "ADDRESS" };
        var data = new Option<string?>("--data") { Description = "Serve a control plane's data directory: tables come over the admin API (what gantry server starts).", HelpName = "DIR" };
        var upgrade = new Option<bool>("--upgrade") { Description = "With --data: replace the running router by this executable without dropping a request." };
        var spare = new Option<bool>("--spare") { Description = "With --data: wait, warmed up, and serve the moment the running router ends (gantry server keeps one)." };
        var command = new Command("router", "Run the built-in router: for a control plane's data directory (--data), or alone from a routing-table file (--config), reloading it on change.") { config, admin, data, upgrade, spare };
        command.SetAction(async (parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (parse.GetValue(data) is { } dataDirectory)
            {
                return parse.GetValue(config) is not null ? await Refuse(error, "--config and --data are two ways to run the router: give one")
                    : parse.GetValue(admin) is not null ? await Refuse(error, "--admin is for --config; with --data the metrics are on the admin socket (and gantry server's /metrics)")
                    : parse.GetValue(upgrade) && parse.GetValue(spare) ? await Refuse(error, "--upgrade and --spare are two ways to run the router: give one")
                    : parse.GetValue(spare) ? await new Proxy.Control.RouterSpare(new Proxy.Control.RouterFiles(dataDirectory), time, output, error).RunAsync(ct)
                    : await ManagedRouter.RunAsync(new Proxy.Control.RouterFiles(dataDirectory), parse.GetValue(upgrade), time, output, error, ct);
            }

            if (parse.GetValue(config) is null || parse.GetValue(upgrade) || parse.GetValue(spare))
            {
                return await Refuse(error, parse.GetValue(upgrade) ? "--upgrade needs --data DIR" : parse.GetValue(spare) ? "--spare needs --data DIR" : "give --data DIR (a control plane's router) or --config FILE (a routing-table file)");
            }

            Endpoint? adminAddress = null;
            if (parse.GetValue(admin) is { } text && Endpoint.TryParse(text, out adminAddress) is { } bad)
            {
                await error.WriteLineAsync($"gantry: --admin: {bad.Message}");
                return ExitCodes.BadInput;
            }

            var path = parse.GetValue(config)!;
            var first = RoutingTableReader.ReadFile(path);
            if (first.Table is null)
            {
                await WriteAsync(error, first.Diagnostics);
                return ExitCodes.BadInput;
            }

            await using var router = new Router(time);
            var applied = await router.ApplyAsync(first.Table, ct);
            if (!applied.Applied)
            {
                await error.WriteLineAsync($"gantry: {applied.Error}");
                return ExitCodes.BadInput;
            }

            var adminApp = adminAddress is null ? null : await AdminServer.StartAsync(router, adminAddress, ct);
            await output.WriteLineAsync($"gantry router: serving {Describe(first.Table)} from {path}" + (adminAddress is null ? string.Empty : $"; metrics on http://{adminAddress}/metrics"));
            try
            {
                await WatchAsync(router, path, output, error, time, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Stopped by Ctrl+C or SIGTERM.
            }
            finally
            {
                if (adminApp is not null)
                {
                    await adminApp.DisposeAsync();
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<int> Refuse(TextWriter error, string message)
    {
        await error.WriteLineAsync($"gantry: {message}");
        return ExitCodes.BadInput;
    }

    private static string Describe(RoutingTable table) =>
        string.Join("; ", table.Routes.Select(r => $"{r.Name} on {r.Listen} ({string.Join(", ", r.Groups.Select(g => $"{g.Name} {g.Weight}"))})"));

    private static async Task WatchAsync(Router router, string path, TextWriter output, TextWriter error, TimeProvider time, CancellationToken ct)
    {
        // Change notifications make a reload immediate; the slow poll covers filesystems that send none.
        using var changed = new SemaphoreSlim(0);
        var full = Path.GetFullPath(path);
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(full)!, Path.GetFileName(full))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName | NotifyFilters.CreationTime,
        };
        FileSystemEventHandler signal = (_, _) => changed.Release();
        watcher.Changed += signal;
        watcher.Created += signal;
        watcher.Renamed += (_, _) => changed.Release();
        watcher.EnableRaisingEvents = true;
        var last = TryRead(path);
        while (!ct.IsCancellationRequested)
        {
            using (var tick = new CancellationTokenSource(TimeSpan.FromSeconds(1), time))
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(ct, tick.Token))
            {
                try
                {
                    await changed.WaitAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // The fallback poll.
                }
            }

            while (changed.CurrentCount > 0)
            {
                await changed.WaitAsync(ct);
            }

            // The content decides: two writes can share a timestamp and size, and the text is small.
            var text = TryRead(path);
            if (text is null || text == last)
            {
                continue;
            }

            last = text;
            var read = RoutingTableReader.ReadText(text, path);
            if (read.Table is null)
            {
                await WriteAsync(error, read.Diagnostics);
                await error.WriteLineAsync("gantry router: the routing table has errors; still serving the last good one");
                continue;
            }

            if (read.Table == router.Table)
            {
                continue;
            }

            var applied = await router.ApplyAsync(read.Table, ct);
            await (applied.Applied
                ? output.WriteLineAsync($"gantry router: reloaded: {Describe(read.Table)}")
                : error.WriteLineAsync($"gantry router: not applied ({applied.Error}); still serving the last good table"));
        }
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static async Task WriteAsync(TextWriter error, IReadOnlyList<Core.Manifest.Diagnostic> diagnostics)
    {
        foreach (var d in diagnostics)
        {
            await error.WriteLineAsync(d.ToString());
        }
    }
}
