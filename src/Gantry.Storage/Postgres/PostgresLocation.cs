using System.Net.Sockets;
using Npgsql;

namespace Gantry.Storage.Postgres;

/// <summary>Where a PostgreSQL store is: a <c>postgres://</c> URL or an Npgsql connection string, and how to name it without its password.</summary>
public static class PostgresLocation
{
    /// <summary>Whether <paramref name="store"/> names a PostgreSQL database (a URL with the postgres or postgresql scheme).</summary>
    public static bool IsPostgres(string store) =>
        store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// <c>postgres://user:password@host:port/database?sslmode=require</c> (the libpq form; user, password and query
    /// values percent-decoded), or a connection string (<c>Host=...;Database=...</c>).
    /// </summary>
    /// <exception cref="ArgumentException">Neither form, or a URL without a host or a database.</exception>
    public static NpgsqlConnectionStringBuilder Parse(string location)
    {
        NpgsqlConnectionStringBuilder builder;
        if (IsPostgres(location))
        {
            if (!Uri.TryCreate(location, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host) || uri.AbsolutePath.Trim('/').Length == 0)
            {
                throw new ArgumentException($"'{Redact(location)}' is not a PostgreSQL URL: expected postgres://user:password@host:port/database");
            }

            builder = new NpgsqlConnectionStringBuilder
            {
                Host = uri.Host.Trim('[', ']'),
                Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
                Database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/')),
            };
            if (uri.UserInfo.Split(':', 2) is [var user, ..] && user.Length > 0)
            {
                builder.Username = Uri.UnescapeDataString(user);
            }

            if (uri.UserInfo.Split(':', 2) is [_, var password])
            {
                builder.Password = Uri.UnescapeDataString(password);
            }

            foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, Uri.UnescapeDataString(v)) : (pair, "true");
                try
                {
                    builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = value;
                }
                catch (ArgumentException ex)
                {
                    throw new ArgumentException($"PostgreSQL URL option '{key}': {ex.Message}", ex);
                }
            }
        }
        else
        {
            try
            {
                builder = new NpgsqlConnectionStringBuilder(location);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"'{Redact(location)}' is neither a postgres:// URL nor a connection string: {ex.Message}", ex);
            }
        }

        builder.ApplicationName ??= "gantry";
        if (builder.Timeout == 15)
        {
            builder.Timeout = 5;
        }

        return builder;
    }

    /// <summary>"PostgreSQL host:port/database", never the password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) => $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";

    /// <summary>Why a connection failed, in a few words (the innermost socket error or the server's message).</summary>
    public static string Reason(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException pg:
                    return pg.MessageText;
                case SocketException socket:
                    return "cannot be reached (" + socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused",
                        SocketError.HostNotFound or SocketError.NoData => "host not found",
                        SocketError.TimedOut => "timed out",
                        var other => other.ToString(),
                    } + ")";
                case TimeoutException:
                    return "cannot be reached (timed out)";
            }
        }

        return error.Message;
    }

    /// <summary>A URL with its password replaced by stars.</summary>
    public static string Redact(string location) =>
        System.Text.RegularExpressions.Regex.Replace(location, "(://[^:/@]*:)[^@]*@", "$1***@");
}
