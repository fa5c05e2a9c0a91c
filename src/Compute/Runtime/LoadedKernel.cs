using System.ComponentModel;

namespace GpuDeconv.Compute;

/// <summary>A kernel made ready on one accelerator; generated launchers call into it.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class LoadedKernel
{
    internal LoadedKernel(Accelerator accelerator, KernelDefinition definition, object? compiled, int implicitGroupSize)
    {
        Accelerator = accelerator;
        Definition = definition;
        Compiled = compiled;
        ImplicitGroupSize = implicitGroupSize;
    }

    public Accelerator Accelerator { get; }

    public KernelDefinition Definition { get; }

    /// <summary>The backend's compiled program and kernel handle (null on the CPU).</summary>
    internal object? Compiled { get; }

    /// <summary>The group size of implicitly grouped launches; 0 lets the backend choose.</summary>
    public int ImplicitGroupSize { get; }

    /// <summary>True when the generated C# runs directly (CPU accelerator).</summary>
    public bool IsCpu => Accelerator is CPUAccelerator;

    // One list per thread, reused: backends copy the arguments during the launch call
    // (cuLaunchKernel, clSetKernelArg), so nothing reads a list after its launch returns.
    [ThreadStatic] private static KernelArgumentList? t_arguments;

    /// <summary>An empty argument list for one launch on this thread; valid until the next call on the same thread.</summary>
    public KernelArgumentList CreateArguments()
    {
        var arguments = t_arguments ??= new KernelArgumentList();
        arguments.Reset(Accelerator);
        return arguments;
    }

    public void LaunchImplicit(AcceleratorStream stream, LongIndex3D extent, KernelArgumentList arguments)
    {
        CheckStream(stream);
        if (extent.X < 0 || extent.Y < 0 || extent.Z < 0)
            throw new ArgumentOutOfRangeException(nameof(extent), $"Kernel {Definition.Name}: the launch extent {extent} has a negative dimension.");
        if (extent.X == 0 || extent.Y == 0 || extent.Z == 0) return;
        long start = Accelerator.DebugLaunches ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        stream.LaunchImplicit(this, extent, ImplicitGroupSize, arguments);
        if (start != 0) Accelerator.TraceLaunch(this, extent, start);
    }

    public void LaunchGrouped(AcceleratorStream stream, KernelConfig config, KernelArgumentList arguments)
    {
        CheckStream(stream);
        Accelerator.ValidateConfig(this, config);
        if (config.GridDim.Size == 0) return;
        long start = Accelerator.DebugLaunches ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        stream.LaunchGrouped(this, config, arguments);
        if (start != 0) Accelerator.TraceLaunch(this, config, start);
    }

    /// <summary>CPU only: runs <paramref name="chunk"/> over the linear indices of <paramref name="extent"/> (X fastest) in parallel chunks; failures name the decoded index.</summary>
    public void LaunchCpuImplicit(AcceleratorStream stream, LongIndex3D extent, Action<long, long> chunk)
    {
        CheckStream(stream);
        if (extent.X < 0 || extent.Y < 0 || extent.Z < 0)
            throw new ArgumentOutOfRangeException(nameof(extent), $"Kernel {Definition.Name}: the launch extent {extent} has a negative dimension.");
        long total = extent.X * extent.Y * extent.Z;
        if (total <= 0) return;
        long start = Accelerator.DebugLaunches ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        ((CPUAccelerator)Accelerator).RunImplicit(this, total, extent, chunk);
        if (start != 0) Accelerator.TraceLaunch(this, extent, start);
    }

    /// <summary>CPU only: runs <paramref name="lane"/> once per thread of every group, with barrier semantics.</summary>
    public void LaunchCpuGrouped(AcceleratorStream stream, KernelConfig config, Action lane)
    {
        CheckStream(stream);
        Accelerator.ValidateConfig(this, config);
        if (config.GridDim.Size == 0) return;
        long start = Accelerator.DebugLaunches ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        ((CPUAccelerator)Accelerator).RunGrouped(this, config, lane);
        if (start != 0) Accelerator.TraceLaunch(this, config, start);
    }

    /// <summary>CPU only: runs a barrier kernel whose body the generator split at its barriers: <paramref name="split"/> runs one whole group; <paramref name="lane"/> is the thread-per-lane fallback.</summary>
    public void LaunchCpuGrouped(AcceleratorStream stream, KernelConfig config, Action lane, Action<CpuGroupRunner> split)
    {
        CheckStream(stream);
        Accelerator.ValidateConfig(this, config);
        if (config.GridDim.Size == 0) return;
        var cpu = (CPUAccelerator)Accelerator;
        long start = Accelerator.DebugLaunches ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        if (cpu.RegionSplitting) cpu.RunSplit(this, config, split);
        else cpu.RunGrouped(this, config, lane);
        if (start != 0) Accelerator.TraceLaunch(this, config, start);
    }

    /// <summary>CPU launches pass views straight to the kernel; this applies the checks <see cref="KernelArgumentList.AddView"/> makes on devices.</summary>
    public void CheckView<T>(ArrayView<T> view, int position) where T : unmanaged => KernelArgumentList.Validate(view, Accelerator, position);

    private void CheckStream(AcceleratorStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!ReferenceEquals(stream.Accelerator, Accelerator))
            throw new ArgumentException($"Kernel {Definition.Name}: the stream belongs to '{stream.Accelerator.Name}', but the kernel was loaded on '{Accelerator.Name}'.", nameof(stream));
    }

    public override string ToString() => $"{Definition.Name} on {Accelerator.Name}";
}
