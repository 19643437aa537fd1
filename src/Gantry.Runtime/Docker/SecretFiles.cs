using System.Globalization;

namespace Gantry.Runtime.Docker;

/// <summary>
/// The secret variables of container instances as files: one folder per instance in shared memory (never on
/// disk), readable only by the container's user (owned by it when the user is numeric and this process may give
/// files away; otherwise readable by others in a folder nobody else may list), mounted read-only at /run/secrets.
/// </summary>
internal sealed class SecretFiles(string owner)
{
    private readonly string root = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"gantry-{owner}-secrets");

    /// <summary>Writes the instance's secrets (replacing what was there) and returns the folder to mount.</summary>
    public string Write(string instanceId, IReadOnlyDictionary<string, string> values, string user)
    {
        Directory.CreateDirectory(root);
        SetMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var folder = Path.Combine(root, instanceId);
        Remove(instanceId);
        Directory.CreateDirectory(folder);
        var parts = user.Split(':');
        var uid = int.TryParse(parts[0], CultureInfo.InvariantCulture, out var u) ? u : (int?)null;
        var gid = parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var g) ? g : uid;
        var given = uid is { } id && Chown(folder, id, gid ?? id);
        foreach (var (name, value) in values)
        {
            var file = Path.Combine(folder, name);
            File.WriteAllText(file, value);
            SetMode(file, given ? UnixFileMode.UserRead : UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            if (given)
            {
                Chown(file, uid!.Value, gid ?? uid.Value);
            }
        }

        SetMode(folder, given ? UnixFileMode.UserRead | UnixFileMode.UserExecute : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        return folder;
    }

    public void Remove(string instanceId)
    {
        var folder = Path.Combine(root, instanceId);
        if (Directory.Exists(folder))
        {
            SetMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static bool Chown(string path, int uid, int gid) => Native.Chown(path, uid, gid) == 0;
}

internal static partial class Native
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "chown", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Chown(string path, int uid, int gid);
}
