using System.Text.Json;
using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;

namespace Gantry.Runtime.Process;

/// <summary>
/// What a control plane needs to take an instance back after a restart, kept in <c>DATA/instances/ID.json</c> while
/// the instance lives: which set it belongs to, its port, and its process (pid and start time, so a recycled pid is
/// never mistaken for it).
/// </summary>
public sealed record AdoptionRecord(string Id, string Service, string Environment, string Key, string Version, int Index, int Port, int Pid, long StartTime, int Restarts, string Runtime = "process")
{
    [System.Text.Json.Serialization.JsonIgnore]
    public InstanceSetId SetId => new(Service, Environment, Key);

    public static string PathOf(string folder, string id) => Path.Combine(folder, id + ".json");

    public void Save(string folder)
    {
        var path = PathOf(folder, Id);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, GantryJson.Options));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The records of instances still running as recorded and carrying <paramref name="owner"/>'s mark; the others' files are removed.</summary>
    public static IReadOnlyList<AdoptionRecord> Living(string folder, string owner)
    {
        var living = new List<AdoptionRecord>();
        if (!Directory.Exists(folder))
        {
            return living;
        }

        var marked = Orphans.Find(owner).ToHashSet();
        foreach (var file in Directory.EnumerateFiles(folder, "*.json"))
        {
            AdoptionRecord? record = null;
            try
            {
                record = JsonSerializer.Deserialize<AdoptionRecord>(File.ReadAllText(file), GantryJson.Options);
            }
            catch (Exception ex) when (ex is JsonException or IOException)
            {
                // A torn or unreadable record: the instance, if it runs, is stopped as an orphan.
            }

            if (record is not null && marked.Contains(record.Pid) && ProcessStat.StartTime(record.Pid) == record.StartTime)
            {
                living.Add(record);
            }
            else
            {
                File.Delete(file);
            }
        }

        return living;
    }
}
