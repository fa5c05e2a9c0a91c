namespace GpuDeconv.Compute;

/// <summary>A block of memory owned by one accelerator; the backends subclass it.</summary>
/// <remarks>Frees its native memory once, on <see cref="Dispose"/> or finalisation.</remarks>
public abstract class DeviceMemory : IDisposable
{
    private int _disposed;

    protected DeviceMemory(Accelerator accelerator, long lengthInBytes)
    {
        Accelerator = accelerator;
        LengthInBytes = lengthInBytes;
        accelerator.CountAllocation(lengthInBytes);
    }

    public Accelerator Accelerator { get; }

    public long LengthInBytes { get; }

    /// <summary>Host-addressable pointer to the first byte (CPU accelerator), else zero.</summary>
    public virtual nint HostPointer => 0;

    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Releases the native allocation; called exactly once.</summary>
    protected abstract void Free();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Free();
        Accelerator.CountAllocation(-LengthInBytes);
        GC.SuppressFinalize(this);
    }

    ~DeviceMemory()
    {
        // Finalizer threads have no device context; backends must cope (CUDA sets it).
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (!Accelerator.IsDisposed) Free();
        Accelerator.CountAllocation(-LengthInBytes);
    }

    internal void ThrowIfDisposed()
    {
        if (IsDisposed) throw new ObjectDisposedException(GetType().Name, "The memory buffer has been disposed.");
    }
}
