using Gantry.Storage.Postgres;
using Gantry.Storage.Tests.Contract;
using Gantry.Testing;

namespace Gantry.Storage.Tests.Postgres;

/// <summary>One PostgreSQL server for the contract tests of this assembly; each test gets a database of its own.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? server;

    public PostgresServer Server => server ?? throw new InvalidOperationException("PostgreSQL did not start");

    public async ValueTask InitializeAsync()
    {
        if (PostgresServer.Available || RealBinaries.Required)
        {
            server = await PostgresServer.StartAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }
}

[CollectionDefinition("postgres")]
public sealed class PostgresGroup : ICollectionFixture<PostgresFixture>;

/// <summary>A database of the test's own on the shared server, created on first use; every open is a new store on it.</summary>
public sealed class PostgresScratch(PostgresFixture fixture)
{
    private string? url;

    public PostgresStore Open(TimeProvider time)
    {
        if (!PostgresServer.Available && !RealBinaries.Required)
        {
            Assert.Skip("PostgreSQL is not installed (apt-get install postgresql-15); ./test.sh installs it and runs this test");
        }

        url ??= fixture.Server.CreateDatabaseAsync("contract").GetAwaiter().GetResult();
        return PostgresStore.Open(url, time);
    }
}

[Collection("postgres")]
public sealed class PostgresRolloutStoreTests(PostgresFixture fixture) : RolloutStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}

[Collection("postgres")]
public sealed class PostgresReleaseStoreTests(PostgresFixture fixture) : ReleaseStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}

[Collection("postgres")]
public sealed class PostgresAnalysisStoreTests(PostgresFixture fixture) : AnalysisStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}

[Collection("postgres")]
public sealed class PostgresGovernanceStoreTests(PostgresFixture fixture) : GovernanceStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}

[Collection("postgres")]
public sealed class PostgresTokenStoreTests(PostgresFixture fixture) : TokenStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}

[Collection("postgres")]
public sealed class PostgresGateStoreTests(PostgresFixture fixture) : GateStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}

[Collection("postgres")]
public sealed class PostgresIncidentStoreTests(PostgresFixture fixture) : IncidentStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}

[Collection("postgres")]
public sealed class PostgresAuditStoreTests(PostgresFixture fixture) : AuditStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}

[Collection("postgres")]
public sealed class PostgresDoraStoreTests(PostgresFixture fixture) : DoraStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}

[Collection("postgres")]
public sealed class PostgresMaintenanceStoreTests(PostgresFixture fixture) : MaintenanceStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}

[Collection("postgres")]
public sealed class PostgresLeaseStoreTests(PostgresFixture fixture) : LeaseStoreContract<PostgresStore>
{
    private readonly PostgresScratch scratch = new(fixture);

    protected override PostgresStore Open() => scratch.Open(Time);
}
