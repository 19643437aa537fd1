using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Gantry.Proxy.Control;

/// <summary>
/// Where the router of a data directory keeps its state (<c>DATA/router/</c>, its owner's only): its pid, its admin
/// token, the last table in force, its log, and the unix socket of its admin API.
/// </summary>
public sealed record RouterFiles(string DataDirectory)
{
    public string Folder => Path.Combine(Path.GetFullPath(DataDirectory), "router");

    public string PidFile => Path.Combine(Folder, "router.pid");

    public string TokenFile => Path.Combine(Folder, "admin.token");

    public string StateFile => Path.Combine(Folder, "table.json");

    public string LogFile => Path.Combine(Folder, "router.log");

    /// <summary>The pid of the spare router waiting to take over (<c>gantry router --data DIR --spare</c>).</summary>
    public string SparePidFile => Path.Combine(Folder, "spare.pid");

    /// <summary>Held by the spare while it waits: one spare per data directory.</summary>
    public string SpareLockFile => Path.Combine(Folder, "spare.lock");

    /// <summary>The admin socket: in the folder, or, when that path is too long for a unix socket (108 bytes), in a private folder under /tmp named after it.</summary>
    public string Socket
    {
        get
        {
            var inFolder = Path.Combine(Folder, "admin.sock");
            if (Encoding.UTF8.GetByteCount(inFolder) < 100)
            {
                return inFolder;
            }

            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Folder)))[..16];
            return Path.Combine(Path.GetTempPath(), $"gantry-router-{hash}", "admin.sock");
        }
    }

    /// <summary>Creates the folder (mode 0700) and the admin token (mode 0600) if there is none yet; returns the token.</summary>
    public string EnsureToken()
    {
        CreatePrivate(Folder);
        CreatePrivate(Path.GetDirectoryName(Socket)!);
        if (File.Exists(TokenFile))
        {
            return File.ReadAllText(TokenFile).Trim();
        }

        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var temporary = TokenFile + ".tmp";
        // The folder is its owner's only; the file is too.
        File.WriteAllText(temporary, token);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            // Two starters at once: the first token written wins, both read it back.
            File.Move(temporary, TokenFile, overwrite: false);
        }
        catch (IOException)
        {
            File.Delete(temporary);
        }

        return File.ReadAllText(TokenFile).Trim();
    }

    /// <summary>The pid in <see cref="PidFile"/> when that process is alive, else null.</summary>
    public int? LivePid() => Live(PidFile);

    /// <summary>The pid in <see cref="SparePidFile"/> when that process is alive, else null.</summary>
    public int? LiveSparePid() => Live(SparePidFile);

    public void WritePid(int pid) => Write(PidFile, pid);

    public void WriteSparePid(int pid) => Write(SparePidFile, pid);

    private static int? Live(string pidFile)
    {
        try
        {
            return int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Core.Runtime.ProcessStat.IsAlive(pid) ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void Write(string pidFile, int pid)
    {
        var temporary = pidFile + ".tmp";
        File.WriteAllText(temporary, pid.ToString(CultureInfo.InvariantCulture) + "\n");
        File.Move(temporary, pidFile, overwrite: true);
    }

    private static void CreatePrivate(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
