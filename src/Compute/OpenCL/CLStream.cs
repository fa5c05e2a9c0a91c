namespace GpuDeconv.Compute;

/// <summary>An in-order OpenCL command queue with profiling enabled.</summary>
public sealed class CLStream : AcceleratorStream
{
    private readonly CLAccelerator _accelerator;
    private readonly bool _isDefault;
    private nint _queue;
    private int _disposed;

    internal CLStream(CLAccelerator accelerator, nint queue, bool isDefault)
        : base(accelerator)
    {
        _accelerator = accelerator;
        _queue = queue;
        _isDefault = isDefault;
    }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>The queue, or an <see cref="ObjectDisposedException"/> once the stream or its accelerator is gone.</summary>
    private nint Queue
    {
        get
        {
            nint queue = Volatile.Read(ref _queue);
            if (queue == 0 || _accelerator.IsDisposed)
                throw new ObjectDisposedException(nameof(CLStream), $"This stream of OpenCL accelerator '{_accelerator.Name}' has been disposed.");
            return queue;
        }
    }

    public override void Synchronize() => CLException.Check(CLApi.clFinish(Queue), "clFinish");

    // ---- copies ----

    internal override unsafe void CopyFromHost(DeviceMemory destination, long destinationOffsetBytes, ReadOnlySpan<byte> source)
    {
        if (source.Length == 0) return;
        nint buffer = Handle(destination);
        // Blocking: the span is not pinned beyond this call, so the driver must have read it before we return.
        fixed (byte* s = source)
            CLException.Check(CLApi.clEnqueueWriteBuffer(Queue, buffer, 1, (nuint)destinationOffsetBytes, (nuint)source.Length, s, 0, null, null), "clEnqueueWriteBuffer");
    }

    internal override unsafe void CopyToHost(DeviceMemory source, long sourceOffsetBytes, Span<byte> destination)
    {
        if (destination.Length == 0) return;
        nint buffer = Handle(source);
        fixed (byte* d = destination)
            CLException.Check(CLApi.clEnqueueReadBuffer(Queue, buffer, 1, (nuint)sourceOffsetBytes, (nuint)destination.Length, d, 0, null, null), "clEnqueueReadBuffer");
    }

    internal override unsafe void CopyDeviceToDevice(DeviceMemory source, long sourceOffsetBytes, DeviceMemory destination, long destinationOffsetBytes, long lengthInBytes)
    {
        if (lengthInBytes == 0) return;
        nint queue = Queue;
        nint from = Handle(source), to = Handle(destination);
        bool overlaps = from == to
            && sourceOffsetBytes < destinationOffsetBytes + lengthInBytes
            && destinationOffsetBytes < sourceOffsetBytes + lengthInBytes;
        if (!overlaps)
        {
            CLException.Check(CLApi.clEnqueueCopyBuffer(queue, from, to, (nuint)sourceOffsetBytes, (nuint)destinationOffsetBytes, (nuint)lengthInBytes, 0, null, null), "clEnqueueCopyBuffer");
            return;
        }
        // OpenCL forbids overlapping copies (CL_MEM_COPY_OVERLAP); go through a scratch buffer, which the
        // runtime keeps alive until both queued copies have run even though we release it right away.
        int status;
        nint scratch = CLApi.clCreateBuffer(_accelerator.ContextHandle, CLApi.MemReadWrite, (nuint)lengthInBytes, null, &status);
        CLException.Check(status, "clCreateBuffer (scratch for an overlapping copy)");
        try
        {
            CLException.Check(CLApi.clEnqueueCopyBuffer(queue, from, scratch, (nuint)sourceOffsetBytes, 0, (nuint)lengthInBytes, 0, null, null), "clEnqueueCopyBuffer");
            CLException.Check(CLApi.clEnqueueCopyBuffer(queue, scratch, to, 0, (nuint)destinationOffsetBytes, (nuint)lengthInBytes, 0, null, null), "clEnqueueCopyBuffer");
        }
        finally
        {
            CLApi.clReleaseMemObject(scratch);
        }
    }

    internal override unsafe void Fill(DeviceMemory destination, long offsetBytes, long lengthInBytes, byte value)
    {
        if (lengthInBytes == 0) return;
        nint buffer = Handle(destination);
        // The pattern is copied at enqueue time, so a stack byte is fine.
        CLException.Check(CLApi.clEnqueueFillBuffer(Queue, buffer, &value, 1, (nuint)offsetBytes, (nuint)lengthInBytes, 0, null, null), "clEnqueueFillBuffer");
    }

    // ---- launches ----

    internal override unsafe void LaunchImplicit(LoadedKernel kernel, LongIndex3D extent, int groupSize, KernelArgumentList arguments)
    {
        var compiled = Compiled(kernel);
        nint queue = Queue;
        long total = extent.X * extent.Y * extent.Z;
        int local = groupSize > 0 ? groupSize : DefaultGroupSize;
        // Implicit kernels can't observe their group size, so clamping to what the kernel supports is safe.
        local = Math.Clamp(local, 1, Math.Min(compiled.MaxGroupSize, _accelerator.CLDevice.MaxGroupSize.X));
        long groups = Math.Min((total + local - 1) / local, GroupCap);
        nuint global = (nuint)(groups * local);
        nuint localSize = (nuint)local;
        lock (compiled.LaunchLock)
        {
            uint index = SetArguments(kernel, compiled, arguments);
            long nx = extent.X, ny = extent.Y, nz = extent.Z;
            SetArgument(kernel, compiled, index++, sizeof(long), &nx);
            SetArgument(kernel, compiled, index++, sizeof(long), &ny);
            SetArgument(kernel, compiled, index, sizeof(long), &nz);
            int status = CLApi.clEnqueueNDRangeKernel(queue, compiled.Kernel, 1, null, &global, &localSize, 0, null, null);
            if (status != 0) throw LaunchFailure(kernel, status, $"global {global}, local {localSize}");
        }
    }

    internal override unsafe void LaunchGrouped(LoadedKernel kernel, KernelConfig config, KernelArgumentList arguments)
    {
        var compiled = Compiled(kernel);
        nint queue = Queue;
        Index3D grid = config.GridDim, group = config.GroupDim;
        var max = _accelerator.CLDevice.MaxGroupSize;
        if (group.X > max.X || group.Y > max.Y || group.Z > max.Z)
            throw new ArgumentOutOfRangeException(nameof(config),
                $"Kernel {kernel.Definition.Name}: group {group} exceeds CL_DEVICE_MAX_WORK_ITEM_SIZES ({max}) of '{_accelerator.Name}'.");
        if (group.Size > compiled.MaxGroupSize)
            throw new ArgumentOutOfRangeException(nameof(config),
                $"Kernel {kernel.Definition.Name}: group of {group.Size} threads exceeds this kernel's CL_KERNEL_WORK_GROUP_SIZE of {compiled.MaxGroupSize} on '{_accelerator.Name}'.");
        uint dims = group.Z > 1 || grid.Z > 1 ? 3u : group.Y > 1 || grid.Y > 1 ? 2u : 1u;
        nuint* global = stackalloc nuint[] { (nuint)((long)grid.X * group.X), (nuint)((long)grid.Y * group.Y), (nuint)((long)grid.Z * group.Z) };
        nuint* local = stackalloc nuint[] { (nuint)group.X, (nuint)group.Y, (nuint)group.Z };
        long dynamicBytes = config.SharedMemoryConfig.DynamicSizeInBytes;
        lock (compiled.LaunchLock)
        {
            uint index = SetArguments(kernel, compiled, arguments);
            if (kernel.Definition.Uses(KernelFeatures.DynamicSharedMemory))
            {
                // A __local pointer argument takes its size and a NULL value; OpenCL rejects size 0.
                SetArgument(kernel, compiled, index, (nuint)Math.Max(1L, dynamicBytes), null);
                // Then the byte count, so SharedMemory.GetDynamic<T>().Length is right (docs/kernel-abi.md section 4).
                SetArgument(kernel, compiled, index + 1, sizeof(long), &dynamicBytes);
            }
            int status = CLApi.clEnqueueNDRangeKernel(queue, compiled.Kernel, dims, null, global, local, 0, null, null);
            if (status != 0) throw LaunchFailure(kernel, status, config.ToString());
        }
    }

    /// <summary>Sets the arguments of docs/kernel-abi.md section 4 from the launcher's slots; returns the next index.</summary>
    private static unsafe uint SetArguments(LoadedKernel kernel, CLKernel compiled, KernelArgumentList arguments)
    {
        uint index = 0;
        foreach (ref readonly var slot in arguments.Slots)
        {
            if (slot.Kind == KernelArgumentKind.View)
            {
                // A zero-length view may have no memory at all; OpenCL accepts a NULL cl_mem for it.
                nint buffer = slot.Memory is null ? 0 : Handle(slot.Memory);
                long offset = slot.ElementOffset, length = slot.Length;
                SetArgument(kernel, compiled, index++, (nuint)sizeof(nint), &buffer);
                SetArgument(kernel, compiled, index++, sizeof(long), &offset);
                SetArgument(kernel, compiled, index++, sizeof(long), &length);
            }
            else
            {
                var bytes = arguments.ValueBytes(slot);
                fixed (byte* value = bytes) SetArgument(kernel, compiled, index++, (nuint)bytes.Length, value);
            }
        }
        return index;
    }

    private static unsafe void SetArgument(LoadedKernel kernel, CLKernel compiled, uint index, nuint size, void* value)
    {
        int status = CLApi.clSetKernelArg(compiled.Kernel, index, size, value);
        if (status != 0) throw new CLException($"clSetKernelArg(kernel {kernel.Definition.Name}, argument {index}, {size} bytes)", status);
    }

    private Exception LaunchFailure(LoadedKernel kernel, int status, string dimensions) =>
        new CLException($"clEnqueueNDRangeKernel(kernel {kernel.Definition.Name}, {dimensions})", status);

    private CLKernel Compiled(LoadedKernel kernel)
    {
        var compiled = kernel.Compiled as CLKernel
            ?? throw new ArgumentException($"Kernel {kernel.Definition.Name} was not compiled for OpenCL.", nameof(kernel));
        if (compiled.Kernel == 0)
            throw new ObjectDisposedException(nameof(CLAccelerator), $"Kernel {kernel.Definition.Name}: OpenCL accelerator '{_accelerator.Name}' has been disposed.");
        return compiled;
    }

    private static nint Handle(DeviceMemory memory)
    {
        memory.ThrowIfDisposed();
        return memory is CLMemory cl
            ? cl.Handle
            : throw new ArgumentException($"The buffer belongs to accelerator '{memory.Accelerator.Name}', not to an OpenCL accelerator.", nameof(memory));
    }

    /// <summary>256 work-items per group: several warps on GPUs; on pocl, measured within 10% of the best for streaming kernels.</summary>
    private const int DefaultGroupSize = 256;

    /// <summary>
    /// The most groups of an implicit launch; the kernel's grid-stride loop covers the rest. pocl runs each work-item's
    /// loop to completion before the next, so on CPU devices striding turns streaming access into cache-hostile jumps
    /// (1M-float saxpy: 0.45 ms with one element per work-item, 12 ms with 128 groups): there the cap is only a size_t
    /// guard. GPUs interleave work-items, so a few waves of groups per compute unit suffice.
    /// </summary>
    private long GroupCap => _accelerator.CLDevice.IsCpuDevice
        ? 1L << 24
        : Math.Max(1, _accelerator.CLDevice.NumMultiprocessors) * 64L;

    // ---- timing ----

    public override unsafe StreamMarker RecordMarker()
    {
        nint evt;
        CLException.Check(CLApi.clEnqueueMarkerWithWaitList(Queue, 0, null, &evt), "clEnqueueMarkerWithWaitList");
        return new CLMarker(evt);
    }

    // ---- lifetime ----

    /// <summary>Releases the queue, optionally finishing its work first; idempotent.</summary>
    internal void ReleaseQueue(bool finish)
    {
        nint queue = Interlocked.Exchange(ref _queue, 0);
        Volatile.Write(ref _disposed, 1);
        if (queue == 0) return;
        if (finish) CLApi.clFinish(queue);
        CLApi.clReleaseCommandQueue(queue);
    }

    /// <summary>Releases the queue after its queued work; the default stream belongs to the accelerator and stays.</summary>
    public override void Dispose()
    {
        if (!_isDefault && !_accelerator.IsDisposed)
        {
            ReleaseQueue(finish: true);
            _accelerator.Forget(this);
        }
        base.Dispose();
    }
}

/// <summary>A marker event on a profiling queue; elapsed time is the difference of the command end times.</summary>
internal sealed class CLMarker(nint evt) : StreamMarker
{
    private nint _event = evt;

    public override unsafe double ElapsedMillisecondsSince(StreamMarker start)
    {
        if (start is not CLMarker other)
            throw new ArgumentException("The start marker was not recorded on an OpenCL stream.", nameof(start));
        ulong begin = other.EndTime(), end = EndTime();
        return (end - (double)begin) / 1e6;
    }

    private unsafe ulong EndTime()
    {
        nint evt = Volatile.Read(ref _event);
        if (evt == 0) throw new ObjectDisposedException(nameof(StreamMarker), "The stream marker has been disposed.");
        CLException.Check(CLApi.clWaitForEvents(1, &evt), "clWaitForEvents");
        ulong time;
        CLException.Check(CLApi.clGetEventProfilingInfo(evt, CLApi.ProfilingCommandEnd, sizeof(ulong), &time, null), "clGetEventProfilingInfo(CL_PROFILING_COMMAND_END)");
        return time;
    }

    public override void Dispose()
    {
        Release();
        base.Dispose();
    }

    ~CLMarker() => Release();

    private void Release()
    {
        nint evt = Interlocked.Exchange(ref _event, 0);
        if (evt != 0) CLApi.clReleaseEvent(evt);
    }
}
