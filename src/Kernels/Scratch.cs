using System.Runtime.CompilerServices;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>
/// Temporary device memory for ops that need it (split-K partial sums, unpooling bookkeeping): one arena
/// per stream, with numbered slots that grow on demand and are then reused, so a steady training loop
/// allocates nothing after its first step. Work on one stream runs in order, so an op may reuse a slot
/// that an earlier op on the same stream used; two ops that are live at once use different slots.
/// Each host thread that launches on a stream gets its own arena: two threads that share a stream
/// (parallel tests on a default stream, say) never hand each other's ops the same memory.
/// </summary>
internal static class Scratch
{
    /// <summary>Slot numbers, so that ops that run back to back never share one by accident.</summary>
    public const int SplitK = 0, Counts = 1, Owners = 2, Status = 3, ConvInput = 4, ConvFilter = 5, GemmPanel = 6;

    private const int Slots = 7;
    private static readonly ConditionalWeakTable<AcceleratorStream, ThreadLocal<Arena>> Arenas = new();

    /// <summary>A view of at least <paramref name="length"/> elements in slot <paramref name="slot"/> of the stream's arena (contents undefined).</summary>
    public static ArrayView<T> Get<T>(AcceleratorStream stream, int slot, long length) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if ((uint)slot >= Slots) throw new ArgumentOutOfRangeException(nameof(slot), slot, $"Scratch slots are 0..{Slots - 1}.");
        var arena = Arenas.GetValue(stream, static _ => new ThreadLocal<Arena>(static () => new Arena(), trackAllValues: true)).Value!;
        long bytes = Math.Max(8, length * Unsafe.SizeOf<T>());
        lock (arena)
        {
            var buffer = arena.Buffers[slot];
            if (buffer is null || buffer.Length * sizeof(long) < bytes)
            {
                if (buffer is not null)
                {
                    // Work queued earlier on this stream may still read the old buffer.
                    stream.Synchronize();
                    buffer.Dispose();
                }
                // Grow by half again so that slowly increasing sizes do not reallocate every call.
                long words = (bytes + 7) / 8;
                buffer = stream.Accelerator.Allocate1D<long>(buffer is null ? words : Math.Max(words, buffer.Length * 3 / 2));
                arena.Buffers[slot] = buffer;
            }
            return buffer.View.BaseView.Cast<T>().SubView(0, length);
        }
    }

    /// <summary>Frees the stream's scratch memory of every thread (after waiting for its queued work); the next <see cref="Get{T}"/> allocates again.</summary>
    public static void Release(AcceleratorStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!Arenas.TryGetValue(stream, out var arenas)) return;
        if (!stream.Accelerator.IsDisposed) stream.Synchronize();
        foreach (var arena in arenas.Values)
        {
            lock (arena)
            {
                for (int i = 0; i < Slots; i++)
                {
                    arena.Buffers[i]?.Dispose();
                    arena.Buffers[i] = null;
                }
            }
        }
    }

    private sealed class Arena
    {
        public readonly MemoryBuffer1D<long, Stride1D.Dense>?[] Buffers = new MemoryBuffer1D<long, Stride1D.Dense>?[Slots];
    }
}
