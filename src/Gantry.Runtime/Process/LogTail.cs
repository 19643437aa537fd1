using System.Text;

namespace Gantry.Runtime.Process;

/// <summary>The last lines of a log file, read from its end (a long-lived instance's log can be large).</summary>
internal static class LogTail
{
    private const int MaxBytes = 256 * 1024;

    public static IReadOnlyList<string> Read(string path, int lines)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var length = (int)Math.Min(file.Length, MaxBytes);
            file.Seek(-length, SeekOrigin.End);
            var buffer = new byte[length];
            file.ReadExactly(buffer);
            var text = Encoding.UTF8.GetString(buffer);
            var all = text.Split('\n');
            // The first piece may be a line cut in the middle, the last the empty rest after the final newline.
            var whole = all.Skip(length < file.Length ? 1 : 0).ToList();
            if (whole.Count > 0 && whole[^1].Length == 0)
            {
                whole.RemoveAt(whole.Count - 1);
            }

            return [.. whole.TakeLast(lines).Select(l => l.TrimEnd('\r'))];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
