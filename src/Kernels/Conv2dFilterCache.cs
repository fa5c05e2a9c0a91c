using System.Runtime.InteropServices;

namespace GpuDeconv.Kernels;

/// <summary>
/// What the CPU accelerator's forward routes derive from a filter, made once and kept for the next calls, for a filter
/// whose values do not change (an inference model's weights): the Winograd route's transformed filter and the direct
/// route's filter repacked into runs of output-channel blocks. Without a cache both are made again on every call,
/// which for one image costs as much as the products (ONNX Runtime prepacks its weights at load for the same reason).
/// Because no transform is then paid per call, Auto also takes the Winograd route for fewer tiles (one 14x14 image).
/// </summary>
/// <remarks>
/// Use one cache with one filter, for as long as that filter lives. The cache knows the filter by its memory and shape,
/// not by its values: a filter written in place after the first call (or a new filter allocated where a freed one was)
/// would go on being computed with the old values, so a filter that is being trained must not have one
/// (Functional.Conv2d refuses a cache for a filter that requires a gradient). Other accelerators ignore the cache. Use a
/// cache from one thread at a time: its lock guards making an entry, not the calls that then read it. Disposing frees
/// what it holds.
/// </remarks>
/// <example><code>
/// using var cache = new Conv2dFilterCache();
/// for (int i = 0; i &lt; images.Length; i++)
///     Conv2dKernels.Forward(stream, images[i], filter, outputs[i], options, bias, filterCache: cache);
/// </code></example>
public sealed unsafe class Conv2dFilterCache : IDisposable
{
    /// <summary>Entry kinds: one of each per cache.</summary>
    internal const int Winograd = 0, Packed = 1;

    private readonly Entry[] _entries = new Entry[2];
    private readonly Lock _lock = new();
    private bool _disposed;

    /// <summary>Bytes the cache holds now.</summary>
    public long Bytes
    {
        get
        {
            lock (_lock) return _entries.Sum(e => e.Floats) * sizeof(float);
        }
    }

    /// <summary>
    /// The <paramref name="kind"/> entry for the filter at <paramref name="source"/> in the form <paramref name="form"/>
    /// (the filter's shape and what else the layout depends on: the tiling, the channel-block grouping), made by
    /// <paramref name="make"/> into <paramref name="floats"/> floats when the cache holds no such entry.
    /// </summary>
    internal float* Get(int kind, nint source, Form form, long floats, Action<nint> make)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ref var entry = ref _entries[kind];
            if (entry.Data != 0 && entry.Source == source && entry.Form == form && entry.Floats == floats) return (float*)entry.Data;
            Free(ref entry);
            var data = (nint)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
            GC.AddMemoryPressure(floats * sizeof(float));
            entry = new Entry(source, form, floats, data);
            try
            {
                make(data);
            }
            catch
            {
                Free(ref entry);
                throw;
            }
            return (float*)data;
        }
    }

    /// <summary>Frees what the cache holds; a disposed cache refuses further use.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            for (int i = 0; i < _entries.Length; i++) Free(ref _entries[i]);
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees what an undisposed cache holds.</summary>
    ~Conv2dFilterCache()
    {
        for (int i = 0; i < _entries.Length; i++) Free(ref _entries[i]);
    }

    private static void Free(ref Entry entry)
    {
        if (entry.Data == 0) return;
        NativeMemory.AlignedFree((void*)entry.Data);
        GC.RemoveMemoryPressure(entry.Floats * sizeof(float));
        entry = default;
    }

    /// <summary>A filter's shape (KH, KW, Cin, Cout) and the variant of its derived layout.</summary>
    internal readonly record struct Form(int KH, int KW, int Cin, int Cout, int Variant);

    private record struct Entry(nint Source, Form Form, long Floats, nint Data);
}
