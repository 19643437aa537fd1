namespace Gantry.Storage.Sqlite;

/// <summary>The database's files: its owner's only.</summary>
public sealed partial class SqliteStore
{
    /// <summary>The database made (or kept) 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.</summary>
    private static void OwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        const UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!File.Exists(path))
        {
            using var created = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode });
        }

        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-journal" }.Where(File.Exists))
        {
            File.SetUnixFileMode(file, mode);
        }
    }
}
