using Gantry.Storage.Sqlite;
using Gantry.Storage.Tests.Contract;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Tests.Sqlite;

/// <summary>A database file in a folder of the test's own, removed afterwards.</summary>
public sealed class SqliteScratch : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-contract-").FullName;

    public string DbPath => Path.Combine(folder, "gantry.db");

    public SqliteStore Open(TimeProvider time) => SqliteStore.Open(DbPath, time);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}

public sealed class SqliteRolloutStoreTests : RolloutStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}

public sealed class SqliteReleaseStoreTests : ReleaseStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}

public sealed class SqliteAnalysisStoreTests : AnalysisStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}

public sealed class SqliteGovernanceStoreTests : GovernanceStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}

public sealed class SqliteTokenStoreTests : TokenStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}

public sealed class SqliteGateStoreTests : GateStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}

public sealed class SqliteIncidentStoreTests : IncidentStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}

public sealed class SqliteAuditStoreTests : AuditStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}

public sealed class SqliteDoraStoreTests : DoraStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}

public sealed class SqliteMaintenanceStoreTests : MaintenanceStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}

public sealed class SqliteLeaseStoreTests : LeaseStoreContract<SqliteStore>, IDisposable
{
    private readonly SqliteScratch scratch = new();

    protected override SqliteStore Open() => scratch.Open(Time);

    public void Dispose() => scratch.Dispose();
}
