using System.Globalization;
using System.Runtime.CompilerServices;

namespace GpuDeconv.Compute;

/// <summary>The dynamic shared memory a launch requests: <see cref="NumElements"/> elements of <see cref="ElementSize"/> bytes.</summary>
public readonly record struct SharedMemoryConfig(int NumElements, int ElementSize)
{
    /// <summary>No dynamic shared memory.</summary>
    public static SharedMemoryConfig Empty => default;

    public int DynamicSizeInBytes => NumElements * ElementSize;

    public bool HasDynamicMemory => NumElements > 0;

    /// <summary>Requests <paramref name="length"/> elements of <typeparamref name="T"/>, read in the kernel with <c>SharedMemory.GetDynamic&lt;T&gt;()</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is negative.</exception>
    public static SharedMemoryConfig RequestDynamic<T>(int length) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return new SharedMemoryConfig(length, Unsafe.SizeOf<T>());
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{DynamicSizeInBytes} bytes dynamic shared memory");
}

/// <summary>The launch configuration of an explicitly grouped kernel: a grid of groups and the threads of one group.</summary>
public readonly record struct KernelConfig(Index3D GridDim, Index3D GroupDim, SharedMemoryConfig SharedMemoryConfig)
{
    public KernelConfig(Index3D gridDim, Index3D groupDim) : this(gridDim, groupDim, default)
    {
    }

    public KernelConfig(Index1D gridDim, Index1D groupDim) : this((Index3D)gridDim, groupDim, default)
    {
    }

    public KernelConfig(Index1D gridDim, Index1D groupDim, SharedMemoryConfig sharedMemoryConfig) : this((Index3D)gridDim, groupDim, sharedMemoryConfig)
    {
    }

    public KernelConfig(Index2D gridDim, Index2D groupDim) : this((Index3D)gridDim, groupDim, default)
    {
    }

    public KernelConfig(Index2D gridDim, Index2D groupDim, SharedMemoryConfig sharedMemoryConfig) : this((Index3D)gridDim, groupDim, sharedMemoryConfig)
    {
    }

    /// <summary>Total number of threads, grid size times group size.</summary>
    public long Size => GridDim.LongSize * GroupDim.LongSize;

    public int GroupSize => GroupDim.Size;

    public bool UsesDynamicSharedMemory => SharedMemoryConfig.HasDynamicMemory;

    public static implicit operator KernelConfig((Index1D GridDim, Index1D GroupDim) config) => new(config.GridDim, config.GroupDim);

    public static implicit operator KernelConfig((Index2D GridDim, Index2D GroupDim) config) => new(config.GridDim, config.GroupDim);

    public static implicit operator KernelConfig((Index3D GridDim, Index3D GroupDim) config) => new(config.GridDim, config.GroupDim);

    public static implicit operator KernelConfig((Index1D GridDim, Index1D GroupDim, SharedMemoryConfig Shared) config) =>
        new(config.GridDim, config.GroupDim, config.Shared);

    public static implicit operator KernelConfig((Index2D GridDim, Index2D GroupDim, SharedMemoryConfig Shared) config) =>
        new(config.GridDim, config.GroupDim, config.Shared);

    public static implicit operator KernelConfig((Index3D GridDim, Index3D GroupDim, SharedMemoryConfig Shared) config) =>
        new(config.GridDim, config.GroupDim, config.Shared);

    public override string ToString() => SharedMemoryConfig.HasDynamicMemory
        ? $"grid {GridDim}, group {GroupDim}, {SharedMemoryConfig}"
        : $"grid {GridDim}, group {GroupDim}";
}
