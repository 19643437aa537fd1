using System.Text;

namespace Gantry.Proxy.Splitting;

/// <summary>
/// Maps a sticky key (cookie or header value) to a point in [0, 1), the same in every process and
/// after every restart: FNV-1a over the UTF-8 bytes, then a SplitMix64 finaliser to spread it.
/// </summary>
public static class StickyHash
{
    public static double PointOf(string key)
    {
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(key) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(key, buffer)] : Encoding.UTF8.GetBytes(key);
        var hash = 14695981039346656037UL;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        hash ^= hash >> 30;
        hash *= 0xbf58476d1ce4e5b9UL;
        hash ^= hash >> 27;
        hash *= 0x94d049bb133111ebUL;
        hash ^= hash >> 31;
        return (hash >> 11) * (1.0 / (1UL << 53));
    }
}
