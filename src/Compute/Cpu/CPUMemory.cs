using System.Diagnostics;
using System.Runtime.InteropServices;

namespace GpuDeconv.Compute;

/// <summary>Host memory, 64-byte aligned and zeroed, owned by a CPU accelerator.</summary>
internal sealed unsafe class CPUMemory : DeviceMemory
{
    private nint _pointer;

    public CPUMemory(Accelerator accelerator, long lengthInBytes) : base(accelerator, lengthInBytes)
    {
        _pointer = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(lengthInBytes, 1), 64);
        NativeMemory.Clear((void*)_pointer, (nuint)lengthInBytes);
        if (lengthInBytes > 0) GC.AddMemoryPressure(lengthInBytes);
    }

    public override nint HostPointer => _pointer;

    public Span<byte> Bytes(long offset, long length)
    {
        ThrowIfDisposed();
        if (offset < 0 || length < 0 || offset + length > LengthInBytes)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Bytes [{offset}, {offset + length}) do not lie inside a buffer of {LengthInBytes} bytes.");
        return new Span<byte>((byte*)_pointer + offset, checked((int)length));
    }

    protected override void Free()
    {
        NativeMemory.AlignedFree((void*)_pointer);
        _pointer = 0;
        if (LengthInBytes > 0) GC.RemoveMemoryPressure(LengthInBytes);
    }
}

/// <summary>The CPU accelerator's stream: every operation completes before its call returns.</summary>
internal sealed unsafe class CPUStream(CPUAccelerator accelerator) : AcceleratorStream(accelerator)
{
    public override void Synchronize()
    {
    }

    internal override void CopyFromHost(DeviceMemory destination, long destinationOffsetBytes, ReadOnlySpan<byte> source) =>
        source.CopyTo(Cpu(destination).Bytes(destinationOffsetBytes, source.Length));

    internal override void CopyToHost(DeviceMemory source, long sourceOffsetBytes, Span<byte> destination) =>
        Cpu(source).Bytes(sourceOffsetBytes, destination.Length).CopyTo(destination);

    internal override void CopyDeviceToDevice(DeviceMemory source, long sourceOffsetBytes, DeviceMemory destination, long destinationOffsetBytes, long lengthInBytes)
    {
        var from = Cpu(source);
        var to = Cpu(destination);
        // Spans are int-sized; copy huge ranges in slices.
        const long Slice = 1L << 30;
        for (long done = 0; done < lengthInBytes; done += Slice)
        {
            long n = Math.Min(Slice, lengthInBytes - done);
            from.Bytes(sourceOffsetBytes + done, n).CopyTo(to.Bytes(destinationOffsetBytes + done, n));
        }
    }

    internal override void Fill(DeviceMemory destination, long offsetBytes, long lengthInBytes, byte value)
    {
        var memory = Cpu(destination);
        const long Slice = 1L << 30;
        for (long done = 0; done < lengthInBytes; done += Slice)
            memory.Bytes(offsetBytes + done, Math.Min(Slice, lengthInBytes - done)).Fill(value);
    }

    internal override void LaunchImplicit(LoadedKernel kernel, LongIndex3D extent, int groupSize, KernelArgumentList arguments) =>
        throw new NotSupportedException($"Kernel {kernel.Definition.Name}: the CPU accelerator runs the kernel's C# through LoadedKernel.LaunchCpuImplicit, not argument lists.");

    internal override void LaunchGrouped(LoadedKernel kernel, KernelConfig config, KernelArgumentList arguments) =>
        throw new NotSupportedException($"Kernel {kernel.Definition.Name}: the CPU accelerator runs the kernel's C# through LoadedKernel.LaunchCpuGrouped, not argument lists.");

    public override StreamMarker RecordMarker() => new CPUMarker(Stopwatch.GetTimestamp());

    private CPUMemory Cpu(DeviceMemory memory) => memory as CPUMemory
        ?? throw new ArgumentException($"The memory belongs to '{memory.Accelerator.Name}', not to the CPU accelerator '{Accelerator.Name}'.");
}

/// <summary>A host timestamp; CPU work is synchronous, so host time is device time.</summary>
internal sealed class CPUMarker(long timestamp) : StreamMarker
{
    public long Timestamp { get; } = timestamp;

    public override double ElapsedMillisecondsSince(StreamMarker start)
    {
        if (start is not CPUMarker cpu)
            throw new ArgumentException($"The start marker comes from another backend ({start.GetType().Name}); both markers must come from the CPU accelerator.", nameof(start));
        return Stopwatch.GetElapsedTime(cpu.Timestamp, Timestamp).TotalMilliseconds;
    }
}
