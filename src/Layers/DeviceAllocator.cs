using System.Runtime.CompilerServices;
using GpuDeconv.Compute;

namespace GpuDeconv.Layers;

/// <summary>What a <see cref="DeviceAllocator"/> has done so far: device allocations, bytes in tensors and bytes cached for reuse.</summary>
/// <param name="DeviceAllocations">Blocks ever allocated from the device (a steady training step adds none).</param>
/// <param name="BytesInUse">Bytes held by live tensors.</param>
/// <param name="BytesCached">Bytes of freed blocks kept for reuse.</param>
/// <param name="PeakBytesInUse">The largest <paramref name="BytesInUse"/> seen.</param>
public readonly record struct AllocatorStatistics(long DeviceAllocations, long BytesInUse, long BytesCached, long PeakBytesInUse);

/// <summary>
/// A caching allocator for one accelerator, as PyTorch's: a freed tensor's block goes to a free list for its size
/// class and the next tensor of that class reuses it, so a training loop stops allocating device memory after
/// its first step. All tensors of an accelerator work on its default stream, so a block freed by one op can be
/// handed to the next: the stream runs them in order.
/// </summary>
public sealed class DeviceAllocator
{
    private static readonly ConditionalWeakTable<Accelerator, DeviceAllocator> Allocators = new();

    // Blocks come in size classes: multiples of 512 bytes up to 1 MiB, then powers of two times 1/8 steps
    // (at most 12.5% waste), so slightly different sizes share blocks.
    private const long Granule = 512;
    private readonly Dictionary<long, Stack<MemoryBuffer1D<long, Stride1D.Dense>>> _free = [];
    private readonly Lock _lock = new();
    private long _deviceAllocations, _bytesInUse, _bytesCached, _peak;

    private DeviceAllocator(Accelerator accelerator) => Accelerator = accelerator;

    /// <summary>The accelerator whose memory this allocator hands out.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The allocator of <paramref name="accelerator"/> (one per accelerator, created on first use).</summary>
    public static DeviceAllocator For(Accelerator accelerator)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        return Allocators.GetValue(accelerator, static a => new DeviceAllocator(a));
    }

    /// <summary>A snapshot of the counters.</summary>
    public AllocatorStatistics Statistics
    {
        get
        {
            lock (_lock) return new AllocatorStatistics(_deviceAllocations, _bytesInUse, _bytesCached, _peak);
        }
    }

    /// <summary>Starts a new <see cref="AllocatorStatistics.PeakBytesInUse"/> at the bytes in use now, e.g. to measure one training step.</summary>
    public void ResetPeak()
    {
        lock (_lock) _peak = _bytesInUse;
    }

    /// <summary>A block of at least <paramref name="bytes"/> bytes (contents undefined).</summary>
    internal MemoryBuffer1D<long, Stride1D.Dense> Rent(long bytes)
    {
        long size = SizeClass(bytes);
        lock (_lock)
        {
            _bytesInUse += size;
            _peak = Math.Max(_peak, _bytesInUse);
            if (_free.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                _bytesCached -= size;
                return stack.Pop();
            }
            _deviceAllocations++;
        }
        try
        {
            return Accelerator.Allocate1D<long>(size / sizeof(long));
        }
        catch
        {
            lock (_lock)
            {
                _bytesInUse -= size;
                _deviceAllocations--;
            }
            throw;
        }
    }

    /// <summary>Takes a block back for reuse.</summary>
    internal void Return(MemoryBuffer1D<long, Stride1D.Dense> block)
    {
        long size = block.LengthInBytes;
        lock (_lock)
        {
            _bytesInUse -= size;
            _bytesCached += size;
            if (!_free.TryGetValue(size, out var stack)) _free[size] = stack = new Stack<MemoryBuffer1D<long, Stride1D.Dense>>();
            stack.Push(block);
        }
    }

    /// <summary>Frees every cached block back to the device (after waiting for queued work); tensors in use are not touched.</summary>
    public void ReleaseCached()
    {
        Accelerator.Synchronize();
        lock (_lock)
        {
            foreach (var stack in _free.Values)
                while (stack.Count > 0) stack.Pop().Dispose();
            _free.Clear();
            _bytesCached = 0;
        }
    }

    internal static long SizeClass(long bytes)
    {
        bytes = Math.Max(bytes, 1);
        if (bytes <= 1 << 20) return (bytes + Granule - 1) / Granule * Granule;
        long power = 1L << (int)(63 - long.LeadingZeroCount(bytes - 1));   // largest power of two below bytes
        long step = power / 8;
        return (bytes + step - 1) / step * step;
    }
}
