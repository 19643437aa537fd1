using System.Globalization;
using System.Text.Json;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using System.Data.Common;

namespace Gantry.Storage.Sql;

/// <summary>
/// What every SQL store does, whatever keeps the data: a state and its events are written in one transaction;
/// the database itself refuses a second active rollout of a service and environment. Writes are serialised
/// (<see cref="BeginWriteAsync"/>): in this process by a semaphore, across processes by the database, so that
/// event ids and the audit chain grow in commit order. The SQLite and PostgreSQL stores say how to connect.
/// </summary>
public abstract partial class SqlStore : IRolloutStore, IReleaseStore, Core.Analysis.IAnalysisStore, Core.Gates.IGateStore, Core.Checklists.IChecklistStore, Core.Audit.IAuditStore, Core.Policies.IFreezeStore, Core.Access.ITokenStore, Core.Approvals.IApprovalStore, IAsyncDisposable
{
    private readonly SemaphoreSlim writer = new(1, 1);

    /// <summary>How states, releases and queued deploys are written: secret values sealed when the store has a key.</summary>
    private readonly JsonSerializerOptions json;

    private readonly TimeProvider time;

    protected SqlStore(Secrets.SecretBox? secrets, TimeProvider time)
    {
        this.time = time;
        json = secrets is null ? GantryJson.Options : Secrets.SealedReleaseConverter.Options(secrets);
    }

    /// <summary>What keeps the data, for messages: "SQLite /path/gantry.db", "PostgreSQL host:port/database".</summary>
    public abstract string Describe { get; }

    /// <summary>An open connection.</summary>
    protected internal abstract DbConnection Connect();

    /// <summary>Whether the database refused a write for a unique constraint.</summary>
    protected abstract bool IsUniqueViolation(DbException exception);

    /// <summary>A write transaction; the caller holds this process's writer lock. A store shared by processes serialises them here.</summary>
    protected internal virtual async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken ct) =>
        await connection.BeginTransactionAsync(ct);

    /// <summary>A read-only transaction whose reads all see the store as of one moment, without holding up writers.</summary>
    protected internal virtual async Task<DbTransaction> BeginSnapshotAsync(DbConnection connection, CancellationToken ct) =>
        await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);

    /// <summary>After rows were written with their own values in <paramref name="column"/> (a copy): what the database must do so that its next generated value follows them.</summary>
    protected internal virtual Task AfterExplicitIdsAsync(DbConnection connection, DbTransaction transaction, string table, string column, CancellationToken ct) => Task.CompletedTask;

    public async Task<string> NextIdAsync(string service, string environment, CancellationToken ct)
    {
        await using var connection = Connect();
        var seq = NextSeq(connection, null, service, environment);
        return Id(service, environment, seq);
    }

    private static string Id(string service, string environment, long seq) => string.Create(CultureInfo.InvariantCulture, $"{service}-{environment}-{seq}");

    private static long NextSeq(DbConnection connection, DbTransaction? transaction, string service, string environment)
    {
        using var command = Command(connection, transaction, "SELECT COALESCE(MAX(seq), 0) + 1 FROM rollouts WHERE service = @s AND environment = @e", ("@s", service), ("@e", environment));
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    public async Task<CommitOutcome> CreateAsync(RolloutState rollout, IReadOnlyList<RolloutEvent> events, CancellationToken ct, long? fromQueue = null, Core.Audit.AuditContext? who = null, RolloutChange? marks = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            using (var busy = Command(connection, transaction, "SELECT COUNT(*) FROM rollouts WHERE service = @s AND environment = @e AND active = 1", ("@s", rollout.Service), ("@e", rollout.Environment)))
            {
                if (Convert.ToInt64(busy.ExecuteScalar(), CultureInfo.InvariantCulture) > 0)
                {
                    return CommitOutcome.Busy;
                }
            }

            var seq = NextSeq(connection, transaction, rollout.Service, rollout.Environment);
            using (var insert = Command(connection, transaction, """
                INSERT INTO rollouts (id, service, environment, seq, version, kind, phase, active, revision, created_at, updated_at, state, created_ms, finished_ms, commit_ms, outcome, lead_ms)
                VALUES (@id, @s, @e, @seq, @v, @k, @p, @a, @r, @c, @u, @state, @cms, @fms, @kms, @outcome, @lead)
                """, Row(rollout, seq)))
            {
                insert.ExecuteNonQuery();
            }

            using (var release = Command(connection, transaction, "INSERT INTO releases (service, version, release, created_at) VALUES (@s, @v, @rel, @c) ON CONFLICT DO NOTHING",
                ("@s", rollout.Service), ("@v", rollout.Release.Version), ("@rel", JsonSerializer.Serialize(rollout.Release, json)), ("@c", Time(rollout.CreatedAt))))
            {
                release.ExecuteNonQuery();
            }

            RaiseMark(connection, transaction);
            AppendEvents(connection, transaction, rollout, events, who?.Actor ?? rollout.CreatedBy);
            AuditEvents(connection, transaction, rollout, events, who ?? new Core.Audit.AuditContext(rollout.CreatedBy ?? "gantry"));
            if (marks is { } change)
            {
                // Changed meanwhile (it cannot be, under the target's lock): left as it is.
                Replace(connection, transaction, change.Rollout, change.ExpectedRevision, change.Events, who);
            }

            if (fromQueue is { } queued)
            {
                using var dequeue = Command(connection, transaction, "DELETE FROM queue WHERE id = @id", ("@id", queued));
                if (dequeue.ExecuteNonQuery() != 1)
                {
                    // Started by someone else meanwhile: nothing happens.
                    return CommitOutcome.Conflict;
                }
            }

            await transaction.CommitAsync(ct);
            return CommitOutcome.Committed;
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<CommitOutcome> SaveAsync(RolloutState rollout, long expectedRevision, IReadOnlyList<RolloutEvent> events, CancellationToken ct, Core.Audit.AuditContext? who = null, Core.Cluster.LeaseFence? fence = null)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            await using var transaction = await BeginWriteAsync(connection, ct);
            if (!Replace(connection, transaction, rollout, expectedRevision, events, who, fence))
            {
                return CommitOutcome.Conflict;
            }

            await transaction.CommitAsync(ct);
            return CommitOutcome.Committed;
        }
        catch (DbException ex) when (IsUniqueViolation(ex))
        {
            // UNIQUE: a retry made this rollout active while another one of its service is.
            return CommitOutcome.Busy;
        }
        finally
        {
            writer.Release();
        }
    }

    /// <summary>A rollout's new state with its events and their audit records, if it is still at <paramref name="expectedRevision"/>; <paramref name="who"/> null: Gantry itself.</summary>
    private bool Replace(DbConnection connection, DbTransaction transaction, RolloutState rollout, long expectedRevision, IReadOnlyList<RolloutEvent> events, Core.Audit.AuditContext? who, Core.Cluster.LeaseFence? fence = null)
    {
        using (var update = Command(connection, transaction, """
            UPDATE rollouts SET phase = @p, active = @a, revision = @r, updated_at = @u, state = @state, finished_ms = @fms, commit_ms = @kms, outcome = @outcome, lead_ms = @lead
            WHERE id = @id AND revision = @expected
            """ + FenceClause(fence), [.. Row(rollout, 0), ("@expected", expectedRevision), .. FenceParameters(fence)]))
        {
            if (update.ExecuteNonQuery() != 1)
            {
                return false;
            }
        }

        RaiseMark(connection, transaction);
        AppendEvents(connection, transaction, rollout, events, who?.Actor);
        AuditEvents(connection, transaction, rollout, events, who ?? Core.Audit.AuditContext.System);
        return true;
    }

    /// <summary>Moves the change mark (<see cref="ChangeMarkAsync"/>) in the transaction of the change.</summary>
    private static void RaiseMark(DbConnection connection, DbTransaction transaction)
    {
        using var raise = Command(connection, transaction, "UPDATE change_mark SET mark = mark + 1 WHERE id = 1");
        raise.ExecuteNonQuery();
    }

    public async Task<long> ChangeMarkAsync(CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT mark FROM change_mark WHERE id = 1");
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private (string, object)[] Row(RolloutState r, long seq) =>
    [
        ("@id", r.Id), ("@s", r.Service), ("@e", r.Environment), ("@seq", seq), ("@v", r.Release.Version), ("@k", r.Kind.ToString()),
        ("@p", r.Phase.ToString()), ("@a", r.Phase.IsTerminal() ? 0 : 1), ("@r", r.Revision), ("@c", Time(r.CreatedAt)), ("@u", Time(r.UpdatedAt)),
        ("@state", JsonSerializer.Serialize(r, json)),
        ("@cms", r.CreatedAt.ToUnixTimeMilliseconds()), ("@fms", Number(r.FinishedAt?.ToUnixTimeMilliseconds())),
        ("@kms", Number(r.Release.CommitTime?.ToUnixTimeMilliseconds())),
        ("@outcome", Core.Dora.DeploymentFacts.OutcomeOf(r.Phase)),
        ("@lead", Core.Dora.DeploymentFacts.LeadTimeOf(r) is { } lead ? Math.Min(lead.Ticks / TimeSpan.TicksPerMillisecond, NoLead - 1) : NoLead),
    ];

    /// <summary>The lead-time bits of a packed DORA fact (52 bits of milliseconds), all set: no lead time (no commit time, or no end).</summary>
    private const long NoLead = (1L << 52) - 1;

    public async Task<RolloutState?> GetAsync(string id, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT state FROM rollouts WHERE id = @id", ("@id", id));
        return command.ExecuteScalar() is string json ? Parse(json) : null;
    }

    public async Task<IReadOnlyList<RolloutState>> ListAsync(RolloutQuery query, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, """
            SELECT state FROM rollouts
            WHERE (@s IS NULL OR service = @s) AND (@e IS NULL OR environment = @e) AND (@active = 0 OR active = 1)
            ORDER BY created_at DESC, seq DESC LIMIT @limit
            """, ("@s", (object?)query.Service ?? DBNull.Value), ("@e", (object?)query.Environment ?? DBNull.Value), ("@active", query.ActiveOnly ? 1 : 0), ("@limit", query.Limit));
        return ReadStates(command);
    }

    public async Task<IReadOnlyList<RolloutState>> LatestPerTargetAsync(CancellationToken ct, string? service = null)
    {
        await using var connection = Connect();
        // One text each way: with "@s IS NULL OR" the database could not use the (service, environment, seq) index.
        using var command = Command(connection, null, $"""
            SELECT r.state FROM rollouts r
            JOIN (SELECT service, environment, MAX(seq) AS seq FROM rollouts {(service is null ? string.Empty : "WHERE service = @s")} GROUP BY service, environment) latest
              ON latest.service = r.service AND latest.environment = r.environment AND latest.seq = r.seq
            ORDER BY r.service, r.environment
            """, service is null ? [] : [("@s", service)]);
        return ReadStates(command);
    }

    private List<RolloutState> ReadStates(DbCommand command)
    {
        using var reader = command.ExecuteReader();
        var list = new List<RolloutState>();
        while (reader.Read())
        {
            list.Add(Parse(reader.GetString(0)));
        }

        return list;
    }

    private RolloutState Parse(string text) => JsonSerializer.Deserialize<RolloutState>(text, json)
        ?? throw new InvalidDataException("a stored rollout is empty");

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        Bind(command, parameters);
        return command;
    }

    /// <summary>Adds named parameters (<c>@name</c> in the SQL) to a command.</summary>
    private static void Bind(DbCommand command, params (string Name, object Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            // A null says what it is not: PostgreSQL cannot type "@x IS NULL" alone (SQLite does not mind).
            (parameter.Value, parameter.DbType) = value switch
            {
                DBNull => (DBNull.Value, System.Data.DbType.String),
                NullNumber => (DBNull.Value, System.Data.DbType.Int64),
                _ => (value, parameter.DbType),
            };
            command.Parameters.Add(parameter);
        }
    }

    /// <summary>A parameter's value: the number, or a null of a numeric column (<see cref="DBNull"/> stands for a null text).</summary>
    private static object Number(long? value) => value is { } v ? v : NullNumber.Value;

    private sealed class NullNumber
    {
        public static readonly NullNumber Value = new();
    }

    public virtual ValueTask DisposeAsync()
    {
        writer.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
