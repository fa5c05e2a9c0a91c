using IL = ILGPU.Runtime;

namespace GpuDeconv.Compute.Ilgpu;

/// <summary>A device that ILGPU found, as a GpuDeconv <see cref="Device"/>: its accelerators run the kernels' ILGPU twins.</summary>
public sealed class IlgpuDevice : Device
{
    internal IlgpuDevice(IlgpuBackend backend, IL.Device device)
    {
        Backend = backend;
        Native = device;
    }

    /// <summary>The ILGPU context and devices this device came from.</summary>
    public IlgpuBackend Backend { get; }

    /// <summary>ILGPU's own device object.</summary>
    public IL.Device Native { get; }

    /// <summary>The accelerator kind: <c>ilgpu-cuda</c>, <c>ilgpu-opencl</c> or <c>ilgpu-cpu</c>.</summary>
    public string Kind => IlgpuBackend.KindOf(Native.AcceleratorType);

    /// <inheritdoc/>
    public override AcceleratorType AcceleratorType => Map(Native.AcceleratorType);

    /// <inheritdoc/>
    public override string Name => $"ILGPU {Native.Name}";

    /// <inheritdoc/>
    public override int MaxNumThreadsPerGroup => Native.MaxNumThreadsPerGroup;

    /// <inheritdoc/>
    public override int WarpSize => Native.WarpSize;

    /// <inheritdoc/>
    public override long MemorySize => Native.AcceleratorType == IL.AcceleratorType.CPU ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : Native.MemorySize;

    /// <inheritdoc/>
    public override int MaxSharedMemoryPerGroup => checked((int)Math.Min(int.MaxValue, Native.MaxSharedMemoryPerGroup));

    /// <inheritdoc/>
    public override int NumMultiprocessors => Native.NumMultiprocessors;

    /// <inheritdoc/>
    public override string Details => $"{Kind}, ILGPU {typeof(IL.Device).Assembly.GetName().Version}";

    /// <summary>False: ILGPU compiles only the GPU-shaped kernels, also on its CPU accelerator.</summary>
    public override bool RunsHostKernels => false;

    /// <inheritdoc/>
    public override bool CompilesHostShapedKernels => false;

    /// <inheritdoc/>
    public override Accelerator CreateAccelerator(Context context)
    {
        ArgumentNullException.ThrowIfNull(context);
        IL.Accelerator native;
        try
        {
            native = Native.CreateAccelerator(Backend.Native);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"ILGPU could not create an accelerator for {Kind} device '{Native.Name}': {e.GetType().Name}: {e.Message}", e);
        }
        return new IlgpuAccelerator(context, this, native, ownsNative: true);
    }

    internal static AcceleratorType Map(IL.AcceleratorType type) => type switch
    {
        IL.AcceleratorType.Cuda => AcceleratorType.Cuda,
        IL.AcceleratorType.OpenCL => AcceleratorType.OpenCL,
        _ => AcceleratorType.CPU,
    };
}
