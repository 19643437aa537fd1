using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>A test with a PostgreSQL server of its own (started before, stopped and removed after) and a temp folder.</summary>
public abstract class WithPostgres(string prefix) : IAsyncLifetime
{
    private PostgresServer? postgres;

    protected string Folder { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    protected PostgresServer Postgres => postgres ?? throw new InvalidOperationException("PostgreSQL has not started");

    /// <summary>The sample service, two instances, as a canary that stops at 50% until promoted; its manifest's path.</summary>
    protected async Task<string> CanaryManifestAsync(int listen)
    {
        var manifest = Path.Combine(Folder, "canary.yaml");
        await File.WriteAllTextAsync(manifest, $$"""
            version: 1
            services:
              shop:
                {{SampleService.Process(4)}}
                listen: 127.0.0.1:{{listen}}
                replicas: 2
                health:
                  readiness: { path: /health/ready, interval: 200ms }
                strategy:
                  canary:
                    steps: [{ setWeight: 50 }, { pause: {} }]
            """);
        return manifest;
    }

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
