using System.Runtime.CompilerServices;

namespace GpuDeconv.Compute;

public abstract partial class Accelerator
{
    /// <summary>Allocates a 1-D buffer of <paramref name="length"/> elements (contents undefined).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is negative.</exception>
    public MemoryBuffer1D<T, Stride1D.Dense> Allocate1D<T>(long length) where T : unmanaged =>
        new(AllocateElements<T>(length, nameof(length)), length);

    /// <summary>Allocates a 1-D buffer holding a copy of <paramref name="data"/>.</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Allocate1D<T>(T[] data) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var buffer = Allocate1D<T>(data.Length);
        buffer.CopyFromCPU(data);
        return buffer;
    }

    /// <summary>Allocates a 2-D buffer with X contiguous (offset = x + y * extent.X).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A component of the extent is negative.</exception>
    public MemoryBuffer2D<T, Stride2D.DenseX> Allocate2DDenseX<T>(LongIndex2D extent) where T : unmanaged =>
        new(AllocateElements<T>(Extent2D(extent), nameof(extent)), extent);

    /// <summary>Allocates a 2-D buffer with Y contiguous (offset = x * extent.Y + y), the layout of <c>T[x, y]</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A component of the extent is negative.</exception>
    public MemoryBuffer2D<T, Stride2D.DenseY> Allocate2DDenseY<T>(LongIndex2D extent) where T : unmanaged =>
        new(AllocateElements<T>(Extent2D(extent), nameof(extent)), extent);

    /// <summary>Allocates a DenseX 2-D buffer holding a copy of <paramref name="data"/> (element [x, y] at (x, y)).</summary>
    public MemoryBuffer2D<T, Stride2D.DenseX> Allocate2DDenseX<T>(T[,] data) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var buffer = Allocate2DDenseX<T>(new LongIndex2D(data.GetLength(0), data.GetLength(1)));
        buffer.CopyFromCPU(data);
        return buffer;
    }

    /// <summary>Allocates a DenseY 2-D buffer holding a copy of <paramref name="data"/> (element [x, y] at (x, y)).</summary>
    public MemoryBuffer2D<T, Stride2D.DenseY> Allocate2DDenseY<T>(T[,] data) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var buffer = Allocate2DDenseY<T>(new LongIndex2D(data.GetLength(0), data.GetLength(1)));
        buffer.CopyFromCPU(data);
        return buffer;
    }

    /// <summary>Allocates a 3-D buffer with X contiguous, then Y.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A component of the extent is negative.</exception>
    public MemoryBuffer3D<T, Stride3D.DenseXY> Allocate3DDenseXY<T>(LongIndex3D extent) where T : unmanaged =>
        new(AllocateElements<T>(Extent3D(extent), nameof(extent)), extent);

    /// <summary>Allocates a 3-D buffer with Z contiguous, then Y, the layout of <c>T[x, y, z]</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A component of the extent is negative.</exception>
    public MemoryBuffer3D<T, Stride3D.DenseZY> Allocate3DDenseZY<T>(LongIndex3D extent) where T : unmanaged =>
        new(AllocateElements<T>(Extent3D(extent), nameof(extent)), extent);

    /// <summary>Allocates a DenseXY 3-D buffer holding a copy of <paramref name="data"/>.</summary>
    public MemoryBuffer3D<T, Stride3D.DenseXY> Allocate3DDenseXY<T>(T[,,] data) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var buffer = Allocate3DDenseXY<T>(new LongIndex3D(data.GetLength(0), data.GetLength(1), data.GetLength(2)));
        buffer.CopyFromCPU(data);
        return buffer;
    }

    /// <summary>Allocates a DenseZY 3-D buffer holding a copy of <paramref name="data"/>.</summary>
    public MemoryBuffer3D<T, Stride3D.DenseZY> Allocate3DDenseZY<T>(T[,,] data) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var buffer = Allocate3DDenseZY<T>(new LongIndex3D(data.GetLength(0), data.GetLength(1), data.GetLength(2)));
        buffer.CopyFromCPU(data);
        return buffer;
    }

    private DeviceMemory AllocateElements<T>(long length, string parameter) where T : unmanaged
    {
        ThrowIfDisposed();
        if (length < 0)
            throw new ArgumentOutOfRangeException(parameter, length, $"Cannot allocate {length} elements of {typeof(T).Name}: the length must be zero or positive.");
        long bytes;
        try
        {
            bytes = checked(length * Unsafe.SizeOf<T>());
        }
        catch (OverflowException)
        {
            throw new ArgumentOutOfRangeException(parameter, length, $"{length} elements of {typeof(T).Name} overflow a 64-bit byte count.");
        }
        return AllocateMemory(bytes);
    }

    private static long Extent2D(LongIndex2D extent)
    {
        if (extent.X < 0 || extent.Y < 0)
            throw new ArgumentOutOfRangeException(nameof(extent), extent, $"Cannot allocate a 2-D buffer of extent {extent}: every component must be zero or positive.");
        return checked(extent.X * extent.Y);
    }

    private static long Extent3D(LongIndex3D extent)
    {
        if (extent.X < 0 || extent.Y < 0 || extent.Z < 0)
            throw new ArgumentOutOfRangeException(nameof(extent), extent, $"Cannot allocate a 3-D buffer of extent {extent}: every component must be zero or positive.");
        return checked(extent.X * extent.Y * extent.Z);
    }
}
