using System.Globalization;

namespace Gantry.Testing;

/// <summary>
/// Debian's PostgreSQL (postgresql-15) in a temp dir on a free loopback port: initdb and pg_ctl run as the
/// postgres user (initdb refuses root), trust authentication for the superuser <c>gantry</c>, the socket in the
/// same temp dir. Stopped (immediately) and removed on dispose; <see cref="StopAsync"/> and
/// <see cref="RestartAsync"/> take it away and bring it back on the same port, for database-fault tests.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string folder;
    private readonly string bin;
    private int databases;

    private PostgresServer(string folder, string bin, int port)
    {
        this.folder = folder;
        this.bin = bin;
        Port = port;
    }

    public int Port { get; }

    private string Data => Path.Combine(folder, "data");

    /// <summary>The folder of Debian's PostgreSQL programs (the newest installed), or null.</summary>
    public static string? Binaries() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            : null;

    /// <summary>Whether tests can start one; under ./test.sh they must (it installs postgresql-15).</summary>
    public static bool Available => Binaries() is not null;

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = Binaries() ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql-15)");
        var folder = Directory.CreateTempSubdirectory("gantry-postgres-").FullName;
        var server = new PostgresServer(folder, bin, FreePort.Next());
        try
        {
            await RunAsync("chown", ["postgres:postgres", folder]);
            await server.AsPostgresAsync("initdb", ["-D", server.Data, "-A", "trust", "-U", "gantry", "--locale=C", "-E", "UTF8", "--no-sync"]);
            await server.RestartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again), waiting until it accepts connections.</summary>
    public Task RestartAsync() => AsPostgresAsync("pg_ctl",
    [
        "-D", Data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60",
        "-o", $"-p {Port.ToString(CultureInfo.InvariantCulture)} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
        "start",
    ]);

    /// <summary>Stops the server at once (connections are cut, as when its machine goes away).</summary>
    public Task StopAsync() => AsPostgresAsync("pg_ctl", ["-D", Data, "-m", "immediate", "-w", "stop"]);

    /// <summary>A new empty database; returns its <c>postgres://</c> URL.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "gantry")
    {
        var name = $"{prefix}_{Interlocked.Increment(ref databases).ToString(CultureInfo.InvariantCulture)}";
        await RunAsync(Path.Combine(bin, "psql"), ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "gantry", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", $"CREATE DATABASE {name}"]);
        return Url(name);
    }

    /// <summary>The URL of database <paramref name="name"/> on this server.</summary>
    public string Url(string name) => $"postgres://gantry:secret@127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/{name}";

    /// <summary>What psql prints for <paramref name="sql"/> in <paramref name="database"/> (unaligned, tuples only).</summary>
    public async Task<string> QueryAsync(string database, string sql) =>
        (await RunAsync(Path.Combine(bin, "psql"), ["-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "gantry", "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])).Stdout.Trim();

    /// <summary>The server's folder of programs (pg_dump, psql, ...).</summary>
    public string Program(string name) => Path.Combine(bin, name);

    private Task<CommandResult> AsPostgresAsync(string program, IEnumerable<string> args) =>
        RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(bin, program), .. args]);

    private static async Task<CommandResult> RunAsync(string program, IEnumerable<string> args)
    {
        // Not in the repository: the storage tests also run from a copy of their build (OwnTestRunReportsTests).
        var result = await ChildProcess.RunAsync(program, args, TimeSpan.FromSeconds(90), workingDir: Path.GetTempPath());
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)}: exit {result.ExitCode}: {result.Stderr}{result.Stdout}");
        }

        return result;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (File.Exists(Path.Combine(Data, "postmaster.pid")))
            {
                await StopAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
