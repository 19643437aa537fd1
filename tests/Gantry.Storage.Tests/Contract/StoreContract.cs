using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Testing;

namespace Gantry.Storage.Tests.Contract;

/// <summary>
/// What every store must do, whatever keeps the data: one abstract test class per repository, each run
/// against every store (the SQLite store now, PostgreSQL next) by a small subclass that says how to open it.
/// </summary>
/// <typeparam name="TStore">The store under test; each contract asks for the repository interfaces it checks.</typeparam>
public abstract class StoreContract<TStore>
    where TStore : IAsyncDisposable
{
    protected FakeTimeProvider Time { get; } = new(TestClock.Start);

    /// <summary>A store on this test's own storage: empty the first time, the same data when opened again.</summary>
    protected abstract TStore Open();

    protected static ServiceSpec Service { get; } = ManifestLoader.LoadText("""
        version: 1
        services:
          web:
            process: { command: app, args: ["{port}"] }
            listen: 127.0.0.1:8080
            replicas: 2
            health: { readiness: { path: /ready } }
            strategy: { canary: { steps: [{ setWeight: 50 }] } }
        """).Manifest!.Services[0];

    protected RolloutState NewRollout(string id, string version, string environment = "production") =>
        RolloutEngine.Create(id, Service, environment, new Release(version, [new("FEATURE", "on")], "abc123", Time.GetUtcNow()), RolloutKind.Deploy, [], Time.GetUtcNow(), "alice");
}
