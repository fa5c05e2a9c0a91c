using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>
/// When the CPU accelerator runs an op as host code (HostConv, HostPool) instead of as kernel lanes: on CPUs with 512-bit
/// vectors, unless GPUDECONV_CPU_VECTOR=256 asks for the 256-bit Float8 kernels (the route of CPUs without AVX-512).
/// </summary>
internal static class HostRoute
{
    private static readonly bool Wide = Vector512.IsHardwareAccelerated && Environment.GetEnvironmentVariable("GPUDECONV_CPU_VECTOR") != "256";

    /// <summary>Whether this process's CPU accelerator takes the host routes.</summary>
    public static bool Available => Wide;

    /// <summary>The CPU accelerator of <paramref name="stream"/> when it takes the host routes; null otherwise (pocl, GPUs, ILGPU, no AVX-512).</summary>
    public static CPUAccelerator? Of(AcceleratorStream stream) =>
        Wide && stream.Accelerator is CPUAccelerator cpu && cpu.Device.RunsHostKernels ? cpu : null;
}

/// <summary>Host addresses of views on the CPU accelerator.</summary>
internal static class HostView
{
    /// <summary>The address of element 0 of <paramref name="view"/>; it must live in host memory.</summary>
    public static nint Address<T>(ArrayView<T> view) where T : unmanaged
    {
        nint address = view.HostPointer;
        if (address == 0 && view.Length > 0)
            throw new InvalidOperationException($"A host route was given a view of {view.Length} elements that does not live in host memory.");
        return address;
    }
}

/// <summary>
/// Whole or partial 512-bit vectors of the host routes: a channel group shorter than a vector (LeNet-5's 6, conv3's 10)
/// through AVX-512 masked loads and stores, which touch no memory past the lanes they keep.
/// </summary>
internal static unsafe class HostMask
{
    /// <summary>Lanes below <paramref name="count"/> set (all 16 for a whole vector).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Lanes(int count) =>
        Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(count)).AsSingle();

    /// <summary>A whole vector, or its first <paramref name="count"/> lanes (<paramref name="mask"/>; the rest 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load<T>(T* source, int count, Vector512<T> mask) where T : unmanaged
    {
        if (count >= Vector512<T>.Count) return Vector512.Load(source);
        return typeof(T) == typeof(float)
            ? Avx512F.MaskLoad((float*)source, mask.AsSingle(), Vector512<float>.Zero).As<float, T>()
            : Avx512F.MaskLoad((long*)source, mask.AsInt64(), Vector512<long>.Zero).As<long, T>();
    }

    /// <summary>A whole vector, or its first <paramref name="count"/> lanes (<paramref name="mask"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(T* target, Vector512<T> value, int count, Vector512<T> mask) where T : unmanaged
    {
        if (count >= Vector512<T>.Count) Vector512.Store(value, target);
        else if (typeof(T) == typeof(float)) Avx512F.MaskStore((float*)target, mask.AsSingle(), value.AsSingle());
        else Avx512F.MaskStore((long*)target, mask.AsInt64(), value.AsInt64());
    }

    /// <summary>
    /// <see cref="Store{T}(T*, Vector512{T}, int, Vector512{T})"/>, or with <paramref name="streaming"/> a whole vector on a
    /// 64-byte line of its own as a non-temporal store: straight to memory, without first reading the line into the cache
    /// (write-allocate). A part that streams ends with <see cref="EndStreaming"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(T* target, Vector512<T> value, int count, Vector512<T> mask, bool streaming) where T : unmanaged
    {
        if (streaming && count >= Vector512<T>.Count && ((nint)target & 63) == 0) Vector512.StoreAlignedNonTemporal(value, target);
        else Store(target, value, count, mask);
    }

    /// <summary>Orders a part's non-temporal stores before whatever follows it (they are weakly ordered).</summary>
    public static void EndStreaming(bool streaming)
    {
        if (streaming) Sse.StoreFence();
    }

    /// <summary>
    /// Whether an op that moves <paramref name="bytes"/> (read and written) writes with non-temporal stores: when it moves
    /// more than half the last-level cache (which the other cores share), the lines it writes leave the cache before
    /// anything reads them, and plain stores would read each of them from memory first. Pool1 of the CIFAR network
    /// (128 x 24 x 24 x 64) moves 33 MB; its argmax pooling, backward and unpooling ran 15-30% faster streaming here
    /// (32 MiB L3, medians of alternating runs).
    /// </summary>
    public static bool Streams(long bytes) => bytes > CacheBytes / 2;

    // The last-level cache: Linux lists cpu0's caches in sysfs from L1 up, so the last index is it; 32 MiB where it
    // cannot be read.
    private static readonly long CacheBytes = ReadCacheBytes();

    private static long ReadCacheBytes()
    {
        try
        {
            string? last = null;
            for (int index = 0; File.Exists($"/sys/devices/system/cpu/cpu0/cache/index{index}/size"); index++)
                last = File.ReadAllText($"/sys/devices/system/cpu/cpu0/cache/index{index}/size").Trim();
            if (last is { Length: > 1 } && last[^1] == 'K' && long.TryParse(last[..^1], out long kib)) return kib * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 32L << 20;
    }
}

/// <summary>
/// Software prefetch of a run of memory into L2, a share at a time, while the code that will read it next works on
/// what it read before: weights that stream from memory once per call (a 7x7 x 512 -> 512 layer's 9.4 MB) otherwise
/// arrive only as the loads ask for them. L2, not L1: the chunk being computed fills L1.
/// </summary>
internal unsafe struct HostPrefetch(void* start, long bytes)
{
    private byte* _next = (byte*)start;
    private long _left = bytes;

    /// <summary>The run's next <paramref name="bytes"/> (rounded up to whole 64-byte lines), or what is left of it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Ahead(long bytes)
    {
        for (long at = 0; at < bytes && _left > 0; at += 64, _left -= 64, _next += 64)
            Sse.Prefetch1(_next);
    }

    /// <summary>The share per step that covers the run in <paramref name="steps"/> steps.</summary>
    public readonly long Share(int steps) => steps <= 0 ? _left : (_left / 64 + steps - 1) / steps * 64;
}

/// <summary>Splits host-route work over the cores (CpuWorkers: spinning threads, no wake-up per call), as the CPU accelerator splits a launch.</summary>
internal static class HostParallel
{
    // Parts per core, so that uneven parts balance.
    private const int PartsPerCore = 4;

    /// <summary>Runs <paramref name="range"/> over [0, <paramref name="count"/>) in contiguous parts (one part in sequential mode).</summary>
    public static void For(CPUAccelerator cpu, long count, Action<long, long> range)
    {
        if (count <= 0) return;
        int cores = Environment.ProcessorCount;
        if (cpu.IsSequential || cores == 1 || count == 1)
        {
            range(0, count);
            return;
        }
        int parts = (int)Math.Min(count, (long)cores * PartsPerCore);
        CpuWorkers.For(parts, i => range(count * i / parts, count * (i + 1) / parts));
    }
}

/// <summary>
/// A compile-time block width of the host GEMM-like loops (HostConv, HostWinograd): one or two 16-float vectors of output
/// columns. The JIT specialises each generic block per struct and drops the dead branches.
/// </summary>
internal interface IColumns
{
    static abstract bool Two { get; }
}

/// <summary>16 output columns per block.</summary>
internal struct OneVector : IColumns
{
    public static bool Two => false;
}

/// <summary>32 output columns per block.</summary>
internal struct TwoVectors : IColumns
{
    public static bool Two => true;
}

/// <summary>
/// A compile-time block height of the host loops: twelve rows (the default: 24 accumulators of two vectors each), or ten
/// or eight where twelve would leave a block's last rows empty (HostConv's 49 pixels of a 7x7 image; HostWinograd's 16
/// or 49 tiles of one 14x14 or 28x28 image; HostFewOutputs' ten output channels of conv3, where the other two sums
/// would be of zero padding and are not stored).
/// </summary>
internal interface IRows
{
    static abstract int Count { get; }
}

/// <summary>Eight rows per block.</summary>
internal struct EightRows : IRows
{
    public static int Count => 8;
}

/// <summary>Ten rows per block.</summary>
internal struct TenRows : IRows
{
    public static int Count => 10;
}

/// <summary>Twelve rows per block.</summary>
internal struct TwelveRows : IRows
{
    public static int Count => 12;
}

/// <summary>Block heights for the host loops.</summary>
internal static class BlockRows
{
    /// <summary>
    /// Of 12, 10 and 8 rows per block, the one that computes the fewest rows for <paramref name="count"/> (the larger on a
    /// tie, and 12 unless another saves at least a tenth: a shorter block reads its weights for fewer rows).
    /// </summary>
    public static int For(long count)
    {
        long Computed(int rows) => (count + rows - 1) / rows * rows;
        int best = 12;
        foreach (int rows in (ReadOnlySpan<int>)[10, 8])
            if (10 * Computed(rows) <= 9 * Computed(best)) best = rows;
        return best;
    }
}

/// <summary>
/// Per-thread scratch memory of the host routes, kept from one call to the next: glibc maps every allocation above
/// 128 KiB afresh and unmaps it when freed, so a megabyte of transforms allocated per call costs page faults and
/// zeroing on every call (a tenth of a small convolution's time). A slot is one buffer per thread, grown when a call
/// needs more and kept until the thread ends; a caller must not hold a slot across a call that may take the same
/// slot on the same thread (the slots below are taken by one level of code each).
/// </summary>
internal static unsafe class HostScratch
{
    /// <summary>A transformed filter (taken on the calling thread, outside parallel parts).</summary>
    public const int Filter = 0;

    /// <summary>One parallel part's working set (transformed tiles and products).</summary>
    public const int Work = 1;

    private const int Slots = 2;

    [ThreadStatic] private static nint[]? t_buffers;
    [ThreadStatic] private static long[]? t_bytes;

    /// <summary>At least <paramref name="floats"/> floats, 64-byte aligned, of this thread's <paramref name="slot"/>; contents undefined.</summary>
    public static float* Get(int slot, long floats)
    {
        var buffers = t_buffers ??= new nint[Slots];
        var sizes = t_bytes ??= new long[Slots];
        long bytes = floats * sizeof(float);
        if (sizes[slot] < bytes)
        {
            if (buffers[slot] != 0) NativeMemory.AlignedFree((void*)buffers[slot]);
            buffers[slot] = 0;
            sizes[slot] = 0;
            buffers[slot] = (nint)NativeMemory.AlignedAlloc((nuint)bytes, 64);
            sizes[slot] = bytes;
        }
        return (float*)buffers[slot];
    }
}
