namespace GpuDeconv.Compute;

/// <summary>An accelerator on one NVIDIA GPU: the device's primary context, streams, memory and NVRTC-compiled kernels.</summary>
public sealed class CudaAccelerator : Accelerator
{
    private static int _nextId;

    // The driver keeps the current context per OS thread; remembering which accelerator made its
    // context current on this thread makes MakeCurrent a thread-static read on the hot path.
    [ThreadStatic]
    private static int _currentOnThread;

    private readonly int _id = Interlocked.Increment(ref _nextId);
    private readonly nint _context;
    private readonly CudaStream _defaultStream;
    private readonly List<CudaStream> _streams = [];
    private readonly List<CudaKernel> _kernels = [];
    private bool _released;

    internal unsafe CudaAccelerator(Context context, CudaDevice device)
        : base(context, device)
    {
        CudaDevice = device;
        nint primary = 0;
        CudaException.Check(CudaApi.cuDevicePrimaryCtxRetain(&primary, device.Handle), "cuDevicePrimaryCtxRetain");
        _context = primary;
        try
        {
            MakeCurrent();
            _defaultStream = new CudaStream(this, isDefault: true);
        }
        catch
        {
            _released = true;
            _ = CudaApi.cuDevicePrimaryCtxRelease_v2(device.Handle);
            throw;
        }
        // Implicit launches cap the grid and let the kernel's grid-stride loop cover the rest.
        MaxImplicitGroups = Math.Max(1, device.Multiprocessors) * 32;
    }

    internal CudaDevice CudaDevice { get; }

    /// <summary>Compute capability as major * 10 + minor (90 for H100).</summary>
    public int ComputeCapability => CudaDevice.ComputeCapabilityMajor * 10 + CudaDevice.ComputeCapabilityMinor;

    internal int MaxImplicitGroups { get; }

    /// <summary>Guards disposal against frees and destroys coming from other threads (finalizers).</summary>
    internal object Sync { get; } = new();

    /// <summary>True once the primary context has been released; native handles are then dead.</summary>
    internal bool Released => Volatile.Read(ref _released);

    public override AcceleratorStream DefaultStream => _defaultStream;

    public override unsafe long FreeMemory
    {
        get
        {
            ThrowIfDisposed();
            MakeCurrent();
            nuint free = 0, total = 0;
            CudaException.Check(CudaApi.cuMemGetInfo_v2(&free, &total), "cuMemGetInfo_v2");
            return (long)free;
        }
    }

    /// <summary>Makes this accelerator's context current on the calling thread (pool and finalizer threads have none).</summary>
    internal void MakeCurrent()
    {
        if (_currentOnThread == _id) return;
        CudaException.Check(CudaApi.cuCtxSetCurrent(_context), "cuCtxSetCurrent");
        _currentOnThread = _id;
    }

    protected override AcceleratorStream CreateStreamCore()
    {
        MakeCurrent();
        return new CudaStream(this, isDefault: false);
    }

    internal void Track(CudaStream stream)
    {
        lock (Sync) _streams.Add(stream);
    }

    /// <summary>Destroys a stream unless the context is already gone (then the driver freed it).</summary>
    internal void Destroy(CudaStream stream)
    {
        lock (Sync)
        {
            if (!_streams.Remove(stream) || _released) return;
            // Dispose must not throw: a context that cannot be made current cannot destroy anything.
            if (CudaApi.cuCtxSetCurrent(_context) != 0) return;
            _currentOnThread = _id;
            _ = CudaApi.cuStreamDestroy_v2(stream.Handle);
        }
    }

    protected override void SynchronizeCore()
    {
        MakeCurrent();
        CudaException.Check(CudaApi.cuCtxSynchronize(), "cuCtxSynchronize");
    }

    protected internal override unsafe DeviceMemory AllocateMemory(long lengthInBytes)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(lengthInBytes);
        // cuMemAlloc rejects zero bytes; an empty buffer simply has no device pointer.
        if (lengthInBytes == 0) return new CudaMemory(this, 0, 0);
        MakeCurrent();
        ulong pointer = 0;
        int status = CudaApi.cuMemAlloc_v2(&pointer, (nuint)lengthInBytes);
        if (status == 2)
        {
            // Buffers dropped without Dispose hold device memory until their finalizers run.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            MakeCurrent();
            status = CudaApi.cuMemAlloc_v2(&pointer, (nuint)lengthInBytes);
        }
        if (status != 0) throw CudaException.Create(status, "cuMemAlloc_v2", $"Requested {lengthInBytes} bytes on '{Name}'.");
        return new CudaMemory(this, pointer, lengthInBytes);
    }

    /// <summary>Frees device memory; silent after the context is gone or broken, since Dispose and finalizers must not throw.</summary>
    internal void Free(ulong pointer)
    {
        if (pointer == 0) return;
        lock (Sync)
        {
            if (_released) return;
            if (CudaApi.cuCtxSetCurrent(_context) != 0) return;
            _currentOnThread = _id;
            // Kernels queued on non-blocking streams may still use the memory; cuMemFree is not
            // documented to wait for them, so wait explicitly (cheap when the device is idle).
            _ = CudaApi.cuCtxSynchronize();
            _ = CudaApi.cuMemFree_v2(pointer);
        }
    }

    protected override object? CompileKernel(KernelDefinition definition)
    {
        MakeCurrent();
        var kernel = NvrtcCompiler.Compile(this, definition);
        lock (Sync) _kernels.Add(kernel);
        return kernel;
    }

    protected override void DisposeCore()
    {
        lock (Sync)
        {
            if (_released) return;
            // Errors are ignored from here on: a sticky fault must not stop the context's release.
            if (CudaApi.cuCtxSetCurrent(_context) == 0)
            {
                _currentOnThread = _id;
                _ = CudaApi.cuCtxSynchronize();
                foreach (var kernel in _kernels) _ = CudaApi.cuModuleUnload(kernel.Module);
                foreach (var stream in _streams) _ = CudaApi.cuStreamDestroy_v2(stream.Handle);
            }
            _kernels.Clear();
            _streams.Clear();
            _released = true;
            _ = CudaApi.cuDevicePrimaryCtxRelease_v2(CudaDevice.Handle);
            _currentOnThread = 0;
        }
    }
}
