namespace GpuDeconv.Compute;

/// <summary>A compute device found by a <see cref="Context"/>; <see cref="CreateAccelerator"/> makes it usable.</summary>
public abstract class Device
{
    public abstract AcceleratorType AcceleratorType { get; }

    public abstract string Name { get; }

    public abstract int MaxNumThreadsPerGroup { get; }

    public abstract int WarpSize { get; }

    /// <summary>Global memory in bytes.</summary>
    public abstract long MemorySize { get; }

    public abstract int MaxSharedMemoryPerGroup { get; }

    public abstract int NumMultiprocessors { get; }

    /// <summary>One line of backend-specific facts (driver, version, compute capability...).</summary>
    public virtual string Details => string.Empty;

    /// <summary>True when the device is the host's CPU (the CPU accelerator, or an OpenCL CPU driver such as pocl); used to rank devices.</summary>
    public virtual bool RunsOnHost => AcceleratorType == AcceleratorType.CPU
        || Name.Contains("cpu", StringComparison.OrdinalIgnoreCase)
        || Name.Contains("pthread", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// True when the device runs the host-shaped kernels (<see cref="Float8"/> vectors over host memory: the CPU
    /// accelerator, and OpenCL CPU drivers such as pocl); kernels pick their host- or GPU-shaped variant by it.
    /// Devices of a backend that compiles only GPU-shaped code (ILGPU's) say false even when they run on the host.
    /// </summary>
    public virtual bool RunsHostKernels => RunsOnHost;

    /// <summary>
    /// True when the device can run host-shaped kernels at all, preferred or not (our backends: natively on the host,
    /// translated for devices); false for ILGPU's, which compile only GPU-shaped kernels. Asking such a device for a
    /// host-shaped variant explicitly (for example <c>ConvAlgorithm.Vector</c>) fails at kernel load, naming the kernel.
    /// </summary>
    public virtual bool CompilesHostShapedKernels => true;

    /// <summary>
    /// Why <see cref="CreateAccelerator"/> would fail although the device is listed (a CUDA device whose NVRTC is
    /// missing), else null; lets a caller pick another route (ILGPU's CUDA backend needs no NVRTC) before failing.
    /// </summary>
    public virtual string? UnusableReason => null;

    public abstract Accelerator CreateAccelerator(Context context);

    public override string ToString() => $"{AcceleratorType} {Name}";
}

/// <summary>What one backend found: its devices, or why it has none (library, platform or driver missing).</summary>
public sealed record BackendProbe(AcceleratorType Type, IReadOnlyList<Device> Devices, string? Reason)
{
    public bool IsAvailable => Devices.Count > 0;

    public static BackendProbe Missing(AcceleratorType type, string reason) => new(type, [], reason);

    public override string ToString() => IsAvailable
        ? $"{Type}: {Devices.Count} device(s)"
        : $"{Type}: unavailable ({Reason})";
}
