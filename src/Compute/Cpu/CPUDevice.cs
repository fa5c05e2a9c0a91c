namespace GpuDeconv.Compute;

/// <summary>How the CPU accelerator runs kernels.</summary>
public enum CPUAcceleratorMode
{
    /// <summary>Parallel, unless the environment variable GPUDECONV_CPU_SEQUENTIAL=1 asks for Sequential.</summary>
    Auto,

    /// <summary>Chunks and groups run on all cores.</summary>
    Parallel,

    /// <summary>One thread at a time, indices, groups and lanes in order: deterministic and debugger-friendly.</summary>
    Sequential,
}

/// <summary>The host CPU as a device; its accelerator runs the kernels' C# directly.</summary>
/// <remarks>
/// WarpSize is 1: lanes are not run in lockstep and there are no warp intrinsics, so no code
/// may rely on a wider warp. Groups may hold up to 1024 threads like CUDA devices.
/// </remarks>
/// <param name="mode">How kernels run.</param>
/// <param name="gpuShapedKernels">
/// Make the kernels pick their GPU-shaped variants (<see cref="Device.RunsHostKernels"/> false), as on a GPU or an ILGPU
/// accelerator: slower here, but it runs a GPU's code path on the host, in a debugger, and gives the same bits as
/// ILGPU's CPU accelerator (docs/results/2026-12-06-ilgpu-cpu.md).
/// </param>
public sealed class CPUDevice(CPUAcceleratorMode mode = CPUAcceleratorMode.Auto, bool gpuShapedKernels = false) : Device
{
    public CPUAcceleratorMode Mode { get; } = mode;

    /// <summary>Whether the kernels take their GPU-shaped variants on this device (see the constructor).</summary>
    public bool GpuShapedKernels { get; } = gpuShapedKernels;

    public override bool RunsHostKernels => !GpuShapedKernels;

    public override AcceleratorType AcceleratorType => AcceleratorType.CPU;

    public override string Name => $"CPU ({Environment.ProcessorCount} cores{(GpuShapedKernels ? ", GPU-shaped kernels" : "")})";

    public override int MaxNumThreadsPerGroup => 1024;

    public override int WarpSize => 1;

    public override long MemorySize => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>64 KiB, so kernels tested here also fit on GPUs (48 KiB static on CUDA without opt-in).</summary>
    public override int MaxSharedMemoryPerGroup => 64 * 1024;

    public override int NumMultiprocessors => Environment.ProcessorCount;

    public override string Details => $"mode {CPUAccelerator.ResolveMode(Mode)}, {Environment.OSVersion.Platform} {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}";

    public override Accelerator CreateAccelerator(Context context) => new CPUAccelerator(context, this);

    /// <summary>Creates a CPU accelerator that runs in <paramref name="mode"/>.</summary>
    public CPUAccelerator CreateCPUAccelerator(Context context, CPUAcceleratorMode mode) =>
        new(context, mode == Mode ? this : new CPUDevice(mode, GpuShapedKernels));
}
