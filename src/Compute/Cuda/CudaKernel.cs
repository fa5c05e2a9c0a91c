namespace GpuDeconv.Compute;

/// <summary>A loaded CUDA module and its entry function, with the limits the launch path checks.</summary>
internal sealed class CudaKernel
{
    // Without the opt-in attribute a block may use 48 KB of shared memory, static plus dynamic.
    private const int DefaultSharedLimit = 48 * 1024;

    private readonly object _gate = new();
    private int _dynamicLimit;

    public CudaKernel(nint module, nint function, int maxThreadsPerBlock, int staticSharedBytes, string target)
    {
        Module = module;
        Function = function;
        MaxThreadsPerBlock = maxThreadsPerBlock;
        StaticSharedBytes = staticSharedBytes;
        Target = target;
        DefaultGroupSize = Math.Min(256, maxThreadsPerBlock);
        _dynamicLimit = Math.Max(0, DefaultSharedLimit - staticSharedBytes);
    }

    public nint Module { get; }

    public nint Function { get; }

    /// <summary>The most threads per block this function can launch with (registers may lower it below 1024).</summary>
    public int MaxThreadsPerBlock { get; }

    public int StaticSharedBytes { get; }

    public int DefaultGroupSize { get; }

    /// <summary>What the module was built for, e.g. <c>sm_90 CUBIN</c>.</summary>
    public string Target { get; }

    /// <summary>Raises the function's dynamic shared memory limit when a launch needs more than the default.</summary>
    public void EnsureDynamicSharedMemory(CudaAccelerator accelerator, int bytes)
    {
        if (bytes <= Volatile.Read(ref _dynamicLimit)) return;
        lock (_gate)
        {
            if (bytes <= _dynamicLimit) return;
            accelerator.MakeCurrent();
            int status = CudaApi.cuFuncSetAttribute(Function, CudaApi.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
            if (status != 0)
                throw CudaException.Create(status, "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)",
                    $"Requested {bytes} bytes of dynamic shared memory plus {StaticSharedBytes} static; '{accelerator.Name}' allows {accelerator.MaxSharedMemoryPerGroup} per group.");
            Volatile.Write(ref _dynamicLimit, bytes);
        }
    }
}
