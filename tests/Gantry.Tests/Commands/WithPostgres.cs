using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>A test with a PostgreSQL server of its own (started before, stopped and removed after) and a temp folder.</summary>
public abstract class WithPostgres(string prefix) : IAsyncLifetime
{
    private PostgresServer? postgres;

    protected string Folder { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    protected PostgresServer Postgres => postgres ?? throw new InvalidOperationException("PostgreSQL has not started");

    public async ValueTask InitializeAsync() => postgres = await PostgresServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (postgres is not null)
        {
            await postgres.DisposeAsync();
        }

        Directory.Delete(Folder, recursive: true);
        GC.SuppressFinalize(this);
    }
}
