using System.Collections.Concurrent;
using System.Diagnostics;

namespace GpuDeconv.Compute;

/// <summary>The kind of an accelerator.</summary>
public enum AcceleratorType
{
    CPU,
    Cuda,
    OpenCL,
}

/// <summary>One compute device made ready for use: memory, streams and kernels (ILGPU's <c>Accelerator</c>).</summary>
/// <remarks>Dispose buffers and streams first, then the accelerator, then the context.</remarks>
public abstract partial class Accelerator : IDisposable
{
    private readonly ConcurrentDictionary<(KernelDefinition, int), LoadedKernel> _kernels = new();
    private readonly Dictionary<KernelDefinition, object?> _programs = new();
    private readonly object _compileLock = new();
    private int _disposed;
    private long _bytesAllocated, _peakBytesAllocated;

    protected Accelerator(Context context, Device device)
    {
        Context = context;
        Device = device;
    }

    public Context Context { get; }

    public Device Device { get; }

    public AcceleratorType AcceleratorType => Device.AcceleratorType;

    public string Name => Device.Name;

    public int MaxNumThreadsPerGroup => Device.MaxNumThreadsPerGroup;

    public int WarpSize => Device.WarpSize;

    public long MemorySize => Device.MemorySize;

    public int MaxSharedMemoryPerGroup => Device.MaxSharedMemoryPerGroup;

    public int NumMultiprocessors => Device.NumMultiprocessors;

    /// <summary>The stream that the stream-less launchers and copies use.</summary>
    public abstract AcceleratorStream DefaultStream { get; }

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    public AcceleratorStream CreateStream()
    {
        ThrowIfDisposed();
        return CreateStreamCore();
    }

    /// <summary>Waits for all work queued on every stream of this accelerator.</summary>
    public void Synchronize()
    {
        ThrowIfDisposed();
        SynchronizeCore();
    }

    // ---- backend surface ----

    protected abstract AcceleratorStream CreateStreamCore();

    protected abstract void SynchronizeCore();

    /// <summary>Allocates <paramref name="lengthInBytes"/> bytes of device memory (contents undefined).</summary>
    protected internal abstract DeviceMemory AllocateMemory(long lengthInBytes);

    /// <summary>Compiles (or fetches from cache) the backend program of a kernel; null on the CPU.</summary>
    protected abstract object? CompileKernel(KernelDefinition definition);

    /// <summary>Device memory currently free, in bytes, where the backend can tell; else -1.</summary>
    public virtual long FreeMemory => -1;

    /// <summary>
    /// True when an out-of-range view access inside a kernel fails the launch with a <see cref="KernelExecutionException"/>
    /// that names the kernel and the index (the CPU accelerator). Elsewhere such an access is undefined behaviour.
    /// </summary>
    public virtual bool ChecksBounds => AcceleratorType == AcceleratorType.CPU;

    /// <summary>Bytes of device memory held now by live buffers of this accelerator (caches included: whatever has not been disposed).</summary>
    public long BytesAllocated => Interlocked.Read(ref _bytesAllocated);

    /// <summary>The largest <see cref="BytesAllocated"/> since the accelerator was created or <see cref="ResetPeakBytesAllocated"/> was called.</summary>
    public long PeakBytesAllocated => Interlocked.Read(ref _peakBytesAllocated);

    /// <summary>Starts a new peak at the current <see cref="BytesAllocated"/>, e.g. to measure one training step.</summary>
    public void ResetPeakBytesAllocated() => Interlocked.Exchange(ref _peakBytesAllocated, BytesAllocated);

    /// <summary>Adds (or with a negative count, takes away) device bytes; every <see cref="DeviceMemory"/> calls it once each way.</summary>
    internal void CountAllocation(long bytes)
    {
        long now = Interlocked.Add(ref _bytesAllocated, bytes);
        long peak = Interlocked.Read(ref _peakBytesAllocated);
        while (now > peak)
        {
            long seen = Interlocked.CompareExchange(ref _peakBytesAllocated, now, peak);
            if (seen == peak) break;
            peak = seen;
        }
    }

    protected abstract void DisposeCore();

    // ---- shared machinery ----

    /// <summary>Loads (compiles once, then caches) a kernel on this accelerator.</summary>
    internal LoadedKernel Load(KernelDefinition definition, int implicitGroupSize)
    {
        ThrowIfDisposed();
        if (_kernels.TryGetValue((definition, implicitGroupSize), out var loaded)) return loaded;
        lock (_compileLock)
        {
            if (_kernels.TryGetValue((definition, implicitGroupSize), out loaded)) return loaded;
            if (!_programs.TryGetValue(definition, out object? compiled))
            {
                compiled = CompileKernel(definition);
                _programs[definition] = compiled;
            }
            loaded = new LoadedKernel(this, definition, compiled, implicitGroupSize);
            _kernels[(definition, implicitGroupSize)] = loaded;
            return loaded;
        }
    }

    /// <summary>Checks a launch configuration against the device's limits.</summary>
    internal void ValidateConfig(LoadedKernel kernel, KernelConfig config)
    {
        var group = config.GroupDim;
        var grid = config.GridDim;
        if (group.X < 1 || group.Y < 1 || group.Z < 1 || grid.X < 0 || grid.Y < 0 || grid.Z < 0)
            throw new ArgumentOutOfRangeException(nameof(config), $"Kernel {kernel.Definition.Name}: launch configuration {config} has a non-positive group dimension or a negative grid dimension.");
        if (group.Size > MaxNumThreadsPerGroup)
            throw new ArgumentOutOfRangeException(nameof(config), $"Kernel {kernel.Definition.Name}: group of {group.Size} threads ({group}) exceeds this accelerator's maximum of {MaxNumThreadsPerGroup} threads per group.");
        long dynamicBytes = config.SharedMemoryConfig.DynamicSizeInBytes;
        if (dynamicBytes > MaxSharedMemoryPerGroup)
            throw new ArgumentOutOfRangeException(nameof(config), $"Kernel {kernel.Definition.Name}: {dynamicBytes} bytes of dynamic shared memory exceed this accelerator's {MaxSharedMemoryPerGroup} bytes per group.");
    }

    /// <summary>True when GPUDECONV_DEBUG=1: every launch is logged with its name, dimensions and host time.</summary>
    internal static readonly bool DebugLaunches = Environment.GetEnvironmentVariable("GPUDECONV_DEBUG") == "1";

    /// <summary>Logs one launch that started at <paramref name="startTimestamp"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    internal void TraceLaunch(LoadedKernel kernel, object dimensions, long startTimestamp) =>
        Console.Error.WriteLine($"[gpudeconv] {AcceleratorType} {kernel.Definition.Name} {dimensions} enqueue {Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds:F1} us");

    protected void ThrowIfDisposed()
    {
        if (IsDisposed) throw new ObjectDisposedException(Name, $"Accelerator '{Name}' has been disposed.");
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        DisposeCore();
        IDisposable[] owned;
        lock (_owned) owned = [.. _owned];
        for (int i = owned.Length - 1; i >= 0; i--) owned[i].Dispose();
        GC.SuppressFinalize(this);
    }

    private readonly List<IDisposable> _owned = [];

    /// <summary>
    /// Makes this accelerator own <paramref name="resource"/> (the context or backend it was created in): disposing the
    /// accelerator disposes it afterwards, last given first. <see cref="AcceleratorKinds.Create(string)"/> uses this so
    /// that one <c>using</c> frees an accelerator and what it lives in.
    /// </summary>
    public void DisposeAlso(IDisposable resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ThrowIfDisposed();
        lock (_owned) _owned.Add(resource);
    }

    public override string ToString() => $"{AcceleratorType} {Name}";
}
