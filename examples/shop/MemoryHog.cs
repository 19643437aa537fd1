using System.Runtime.InteropServices;

namespace Shop;

/// <summary>Memory taken and kept on purpose (FAULT_ALLOCATE_MB): native, with every page written, so it counts at once.</summary>
internal static class MemoryHog
{
    private static readonly List<IntPtr> Held = [];

    public static void Take(int megabytes)
    {
        const int Chunk = 1024 * 1024;
        for (var i = 0; i < megabytes; i++)
        {
            var block = Marshal.AllocHGlobal(Chunk);
            for (var offset = 0; offset < Chunk; offset += 4096)
            {
                Marshal.WriteByte(block, offset, 1);
            }

            Held.Add(block);
        }
    }
}
