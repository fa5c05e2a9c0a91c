using System.Runtime.CompilerServices;

namespace GpuDeconv.Compute;

/// <summary>A created, non-blocking CUDA stream; copies, fills and launches run in its order.</summary>
internal sealed class CudaStream : AcceleratorStream
{
    // Launch parameters up to this size live on the stack; larger lists (rare) use a pinned array.
    private const int StackParameterBytes = 1024;

    private readonly CudaAccelerator _accelerator;
    private readonly bool _isDefault;
    private int _disposed;

    internal unsafe CudaStream(CudaAccelerator accelerator, bool isDefault)
        : base(accelerator)
    {
        _accelerator = accelerator;
        _isDefault = isDefault;
        nint handle = 0;
        CudaException.Check(CudaApi.cuStreamCreate(&handle, CudaApi.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        Handle = handle;
        accelerator.Track(this);
    }

    internal nint Handle { get; }

    public override void Synchronize()
    {
        ThrowIfUnusable();
        _accelerator.MakeCurrent();
        CudaException.Check(CudaApi.cuStreamSynchronize(Handle), "cuStreamSynchronize");
    }

    internal override unsafe void CopyFromHost(DeviceMemory destination, long destinationOffsetBytes, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty) return;
        ThrowIfUnusable();
        _accelerator.MakeCurrent();
        // From pageable memory the driver stages the bytes before returning, so the span may be reused at once.
        fixed (byte* host = source)
        {
            CudaException.Check(
                CudaApi.cuMemcpyHtoDAsync_v2(Address(destination, destinationOffsetBytes), host, (nuint)source.Length, Handle),
                "cuMemcpyHtoDAsync_v2");
        }
    }

    internal override unsafe void CopyToHost(DeviceMemory source, long sourceOffsetBytes, Span<byte> destination)
    {
        if (destination.IsEmpty) return;
        ThrowIfUnusable();
        _accelerator.MakeCurrent();
        fixed (byte* host = destination)
        {
            CudaException.Check(
                CudaApi.cuMemcpyDtoHAsync_v2(host, Address(source, sourceOffsetBytes), (nuint)destination.Length, Handle),
                "cuMemcpyDtoHAsync_v2");
            // The host span must be complete when this returns (it is unpinned after the block).
            CudaException.Check(CudaApi.cuStreamSynchronize(Handle), "cuStreamSynchronize");
        }
    }

    internal override void CopyDeviceToDevice(DeviceMemory source, long sourceOffsetBytes, DeviceMemory destination, long destinationOffsetBytes, long lengthInBytes)
    {
        if (lengthInBytes == 0) return;
        ThrowIfUnusable();
        _accelerator.MakeCurrent();
        CudaException.Check(
            CudaApi.cuMemcpyDtoDAsync_v2(Address(destination, destinationOffsetBytes), Address(source, sourceOffsetBytes), (nuint)lengthInBytes, Handle),
            "cuMemcpyDtoDAsync_v2");
    }

    internal override void Fill(DeviceMemory destination, long offsetBytes, long lengthInBytes, byte value)
    {
        if (lengthInBytes == 0) return;
        ThrowIfUnusable();
        _accelerator.MakeCurrent();
        ulong address = Address(destination, offsetBytes);
        // 32-bit stores are several times faster than byte stores when the range allows them.
        if ((address & 3) == 0 && (lengthInBytes & 3) == 0)
        {
            uint word = value * 0x01010101u;
            CudaException.Check(CudaApi.cuMemsetD32Async(address, word, (nuint)(lengthInBytes / 4), Handle), "cuMemsetD32Async");
        }
        else
        {
            CudaException.Check(CudaApi.cuMemsetD8Async(address, value, (nuint)lengthInBytes, Handle), "cuMemsetD8Async");
        }
    }

    internal override void LaunchImplicit(LoadedKernel kernel, LongIndex3D extent, int groupSize, KernelArgumentList arguments)
    {
        var compiled = Compiled(kernel);
        int group = groupSize > 0 ? groupSize : compiled.DefaultGroupSize;
        if (group > compiled.MaxThreadsPerBlock)
            throw new ArgumentOutOfRangeException(nameof(groupSize),
                $"Kernel {kernel.Definition.Name}: group size {group} exceeds the {compiled.MaxThreadsPerBlock} threads per group this kernel supports on '{_accelerator.Name}' (limited by its register use).");
        long total = extent.X * extent.Y * extent.Z;
        long groups = Math.Min((total + group - 1) / group, _accelerator.MaxImplicitGroups);
        Launch(kernel, compiled, (uint)groups, 1, 1, (uint)group, 1, 1, 0, arguments, implicitExtent: true, extent);
    }

    internal override void LaunchGrouped(LoadedKernel kernel, KernelConfig config, KernelArgumentList arguments)
    {
        var compiled = Compiled(kernel);
        var grid = config.GridDim;
        var group = config.GroupDim;
        if (grid.Y > 65535 || grid.Z > 65535)
            throw new ArgumentOutOfRangeException(nameof(config),
                $"Kernel {kernel.Definition.Name}: grid {grid} exceeds CUDA's limit of 65535 groups in Y and Z; put the large dimension in X.");
        if (group.Size > compiled.MaxThreadsPerBlock)
            throw new ArgumentOutOfRangeException(nameof(config),
                $"Kernel {kernel.Definition.Name}: group {group} has {group.Size} threads, but this kernel supports at most {compiled.MaxThreadsPerBlock} per group on '{_accelerator.Name}' (limited by its register use).");
        long dynamicBytes = config.SharedMemoryConfig.DynamicSizeInBytes;
        if (dynamicBytes > 0) compiled.EnsureDynamicSharedMemory(_accelerator, (int)dynamicBytes);
        // Kernels that read dynamic shared memory take its byte count last (docs/kernel-abi.md section 4).
        if (kernel.Definition.Uses(KernelFeatures.DynamicSharedMemory)) arguments.AddValue(dynamicBytes);
        Launch(kernel, compiled, (uint)grid.X, (uint)grid.Y, (uint)grid.Z, (uint)group.X, (uint)group.Y, (uint)group.Z,
            (uint)dynamicBytes, arguments, implicitExtent: false, default);
    }

    /// <summary>
    /// Builds kernelParams (an array of pointers to argument values, docs/kernel-abi.md section 4) on the stack and launches.
    /// </summary>
    private unsafe void Launch(
        LoadedKernel kernel, CudaKernel compiled,
        uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ, uint sharedBytes,
        KernelArgumentList arguments, bool implicitExtent, LongIndex3D extent)
    {
        ThrowIfUnusable();
        var slots = arguments.Slots;
        int count = implicitExtent ? 3 : 0;
        int bytes = implicitExtent ? 24 : 0;
        foreach (ref readonly var slot in slots)
        {
            if (slot.Kind == KernelArgumentKind.View)
            {
                count += 2;
                bytes += 16;
            }
            else
            {
                count += 1;
                bytes += (slot.ValueSize + 7) & ~7;
            }
        }
        byte[]? heap = null;
        byte* stackStorage = stackalloc byte[bytes <= StackParameterBytes ? bytes : 0];
        void** parameters = stackalloc void*[count];
        if (bytes > StackParameterBytes) heap = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
        fixed (byte* heapStorage = heap)
        {
            byte* storage = heap is null ? stackStorage : heapStorage;
            int offset = 0;
            int index = 0;
            foreach (ref readonly var slot in slots)
            {
                if (slot.Kind == KernelArgumentKind.View)
                {
                    // The device pointer already includes the view's offset; then the element count.
                    ulong pointer = slot.Memory is CudaMemory memory && memory.Pointer != 0
                        ? memory.Pointer + (ulong)(slot.ElementOffset * slot.ElementSize)
                        : 0;
                    Unsafe.WriteUnaligned(storage + offset, pointer);
                    Unsafe.WriteUnaligned(storage + offset + 8, slot.Length);
                    parameters[index++] = storage + offset;
                    parameters[index++] = storage + offset + 8;
                    offset += 16;
                }
                else
                {
                    var value = arguments.ValueBytes(slot);
                    value.CopyTo(new Span<byte>(storage + offset, value.Length));
                    parameters[index++] = storage + offset;
                    offset += (slot.ValueSize + 7) & ~7;
                }
            }
            if (implicitExtent)
            {
                Unsafe.WriteUnaligned(storage + offset, extent.X);
                Unsafe.WriteUnaligned(storage + offset + 8, extent.Y);
                Unsafe.WriteUnaligned(storage + offset + 16, extent.Z);
                parameters[index++] = storage + offset;
                parameters[index++] = storage + offset + 8;
                parameters[index++] = storage + offset + 16;
            }
            _accelerator.MakeCurrent();
            int status = CudaApi.cuLaunchKernel(compiled.Function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, Handle, parameters, null);
            if (status != 0)
                throw CudaException.Create(status, "cuLaunchKernel",
                    $"Kernel {kernel.Definition.Name} ({kernel.Definition.Location}): grid ({gridX},{gridY},{gridZ}), group ({blockX},{blockY},{blockZ}), {sharedBytes} bytes of dynamic shared memory, {count} parameters.");
        }
    }

    public override unsafe StreamMarker RecordMarker()
    {
        ThrowIfUnusable();
        _accelerator.MakeCurrent();
        nint handle = 0;
        CudaException.Check(CudaApi.cuEventCreate(&handle, CudaApi.CU_EVENT_DEFAULT), "cuEventCreate");
        var marker = new CudaMarker(_accelerator, handle);
        CudaException.Check(CudaApi.cuEventRecord(handle, Handle), "cuEventRecord");
        return marker;
    }

    private CudaKernel Compiled(LoadedKernel kernel) =>
        kernel.Compiled as CudaKernel
        ?? throw new InvalidOperationException($"Kernel {kernel.Definition.Name} was not compiled for CUDA (loaded on '{kernel.Accelerator.Name}').");

    private static ulong Address(DeviceMemory memory, long offsetBytes)
    {
        var cuda = (CudaMemory)memory;
        memory.ThrowIfDisposed();
        return cuda.Pointer + (ulong)offsetBytes;
    }

    private void ThrowIfUnusable()
    {
        if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(CudaStream), "The CUDA stream has been disposed.");
        if (_accelerator.IsDisposed) throw new ObjectDisposedException(_accelerator.Name, $"Accelerator '{_accelerator.Name}' has been disposed.");
    }

    public override void Dispose()
    {
        // The default stream lives as long as its accelerator.
        if (_isDefault || Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _accelerator.Destroy(this);
        base.Dispose();
    }
}

/// <summary>A timing event recorded on a CUDA stream.</summary>
internal sealed class CudaMarker(CudaAccelerator accelerator, nint handle) : StreamMarker
{
    private int _disposed;

    internal nint Handle { get; } = handle;

    public override unsafe double ElapsedMillisecondsSince(StreamMarker start)
    {
        if (start is not CudaMarker begin || !ReferenceEquals(begin.Accelerator, accelerator))
            throw new ArgumentException("The start marker must come from a stream of the same CUDA accelerator.", nameof(start));
        if (Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref begin._disposed) != 0)
            throw new ObjectDisposedException(nameof(StreamMarker), "A stream marker has been disposed.");
        accelerator.MakeCurrent();
        CudaException.Check(CudaApi.cuEventSynchronize(begin.Handle), "cuEventSynchronize");
        CudaException.Check(CudaApi.cuEventSynchronize(Handle), "cuEventSynchronize");
        float milliseconds = 0;
        CudaException.Check(CudaApi.EventElapsedTime(&milliseconds, begin.Handle, Handle),
            CudaLibraries.HasEventElapsedTimeV2 ? "cuEventElapsedTime_v2" : "cuEventElapsedTime");
        return milliseconds;
    }

    private CudaAccelerator Accelerator => accelerator;

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        lock (accelerator.Sync)
        {
            // After the context's release the driver has already destroyed the event.
            if (!accelerator.Released)
            {
                try
                {
                    accelerator.MakeCurrent();
                    _ = CudaApi.cuEventDestroy_v2(Handle);
                }
                catch (CudaException)
                {
                    // A broken context cannot destroy anything; Dispose must not throw.
                }
            }
        }
        base.Dispose();
    }
}
