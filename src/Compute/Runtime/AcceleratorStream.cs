namespace GpuDeconv.Compute;

/// <summary>An ordered queue of copies and launches on one accelerator.</summary>
public abstract class AcceleratorStream : IDisposable
{
    protected AcceleratorStream(Accelerator accelerator) => Accelerator = accelerator;

    public Accelerator Accelerator { get; }

    /// <summary>Blocks until everything queued on this stream has finished.</summary>
    public abstract void Synchronize();

    // ---- backend surface: every method runs in stream order ----

    /// <summary>Copies host bytes to device memory (may return before the copy is done only if the source is pinned and kept alive by the backend).</summary>
    internal abstract void CopyFromHost(DeviceMemory destination, long destinationOffsetBytes, ReadOnlySpan<byte> source);

    /// <summary>Copies device bytes to the host; waits for prior work on this stream first.</summary>
    internal abstract void CopyToHost(DeviceMemory source, long sourceOffsetBytes, Span<byte> destination);

    internal abstract void CopyDeviceToDevice(DeviceMemory source, long sourceOffsetBytes, DeviceMemory destination, long destinationOffsetBytes, long lengthInBytes);

    /// <summary>Sets <paramref name="lengthInBytes"/> bytes to <paramref name="value"/>.</summary>
    internal abstract void Fill(DeviceMemory destination, long offsetBytes, long lengthInBytes, byte value);

    /// <summary>Launches an implicitly grouped kernel over <paramref name="extent"/> (see docs/kernel-abi.md section 4).</summary>
    internal abstract void LaunchImplicit(LoadedKernel kernel, LongIndex3D extent, int groupSize, KernelArgumentList arguments);

    /// <summary>Launches an explicitly grouped kernel with the given configuration.</summary>
    internal abstract void LaunchGrouped(LoadedKernel kernel, KernelConfig config, KernelArgumentList arguments);

    /// <summary>Records a timing marker; the difference of two gives elapsed device time.</summary>
    public abstract StreamMarker RecordMarker();

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>A point in a stream's timeline (CUDA event, OpenCL marker event, CPU timestamp).</summary>
public abstract class StreamMarker : IDisposable
{
    /// <summary>Milliseconds between <paramref name="start"/> and this marker; waits for both.</summary>
    public abstract double ElapsedMillisecondsSince(StreamMarker start);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
