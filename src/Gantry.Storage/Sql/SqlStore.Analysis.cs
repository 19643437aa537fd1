using System.Text.Json;

namespace Gantry.Storage.Sql;

/// <summary>Analysis runs, as snapshots.</summary>
public partial class SqlStore
{
    public async Task SaveAnalysisAsync(Core.Analysis.AnalysisRunRecord run, CancellationToken ct)
    {
        await writer.WaitAsync(ct);
        try
        {
            await using var connection = Connect();
            using var upsert = Command(connection, null, """
                INSERT INTO analysis_runs (key, rollout_id, record, updated_at) VALUES (@k, @r, @rec, @t)
                ON CONFLICT (key) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at
                """, ("@k", run.Key), ("@r", run.RolloutId), ("@rec", JsonSerializer.Serialize(run, json)), ("@t", Time(run.UpdatedAt)));
            upsert.ExecuteNonQuery();
        }
        finally
        {
            writer.Release();
        }
    }

    public async Task<IReadOnlyList<Core.Analysis.AnalysisRunRecord>> AnalysisAsync(string rolloutId, CancellationToken ct)
    {
        await using var connection = Connect();
        using var command = Command(connection, null, "SELECT record FROM analysis_runs WHERE rollout_id = @r ORDER BY rowid", ("@r", rolloutId));
        using var reader = command.ExecuteReader();
        var list = new List<Core.Analysis.AnalysisRunRecord>();
        while (reader.Read())
        {
            list.Add(JsonSerializer.Deserialize<Core.Analysis.AnalysisRunRecord>(reader.GetString(0), json)!);
        }

        return list;
    }
}
