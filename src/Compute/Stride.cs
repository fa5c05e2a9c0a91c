namespace GpuDeconv.Compute;

/// <summary>A 1-D element layout of a view.</summary>
public interface IStride1D
{
    /// <summary>The element offset of <paramref name="x"/>.</summary>
    long ComputeElementIndex(long x);
}

/// <summary>A 2-D element layout; the extent is passed because all layouts here are dense.</summary>
public interface IStride2D
{
    /// <summary>The element offset of (x, y) in a view of <paramref name="extent"/>.</summary>
    long ComputeElementIndex(long x, long y, LongIndex2D extent);
}

/// <summary>A 3-D element layout; the extent is passed because all layouts here are dense.</summary>
public interface IStride3D
{
    /// <summary>The element offset of (x, y, z) in a view of <paramref name="extent"/>.</summary>
    long ComputeElementIndex(long x, long y, long z, LongIndex3D extent);
}

/// <summary>1-D layouts (ILGPU's <c>Stride1D</c>).</summary>
public static class Stride1D
{
    /// <summary>Contiguous elements.</summary>
    public readonly struct Dense : IStride1D
    {
        public long ComputeElementIndex(long x) => x;

        public override string ToString() => "Dense";
    }
}

/// <summary>2-D layouts (ILGPU's <c>Stride2D</c>).</summary>
public static class Stride2D
{
    /// <summary>X contiguous: offset = x + y * extent.X.</summary>
    /// <param name="yStride">Accepted for ILGPU compatibility; the layout is always dense.</param>
    public readonly struct DenseX(int yStride) : IStride2D
    {
        public int YStride { get; } = yStride;

        public long ComputeElementIndex(long x, long y, LongIndex2D extent) => x + y * extent.X;

        public override string ToString() => "DenseX";
    }

    /// <summary>Y contiguous: offset = x * extent.Y + y, the layout of a C# <c>T[x, y]</c> array.</summary>
    /// <param name="xStride">Accepted for ILGPU compatibility; the layout is always dense.</param>
    public readonly struct DenseY(int xStride) : IStride2D
    {
        public int XStride { get; } = xStride;

        public long ComputeElementIndex(long x, long y, LongIndex2D extent) => x * extent.Y + y;

        public override string ToString() => "DenseY";
    }
}

/// <summary>3-D layouts (ILGPU's <c>Stride3D</c>).</summary>
public static class Stride3D
{
    /// <summary>X contiguous, then Y: offset = x + y * extent.X + z * extent.X * extent.Y.</summary>
    public readonly struct DenseXY(int yStride, int zStride) : IStride3D
    {
        public int YStride { get; } = yStride;

        public int ZStride { get; } = zStride;

        public long ComputeElementIndex(long x, long y, long z, LongIndex3D extent) => x + extent.X * (y + extent.Y * z);

        public override string ToString() => "DenseXY";
    }

    /// <summary>Z contiguous, then Y: offset = z + y * extent.Z + x * extent.Y * extent.Z, the layout of a C# <c>T[x, y, z]</c> array.</summary>
    public readonly struct DenseZY(int xStride, int yStride) : IStride3D
    {
        public int XStride { get; } = xStride;

        public int YStride { get; } = yStride;

        public long ComputeElementIndex(long x, long y, long z, LongIndex3D extent) => z + extent.Z * (y + extent.Y * x);

        public override string ToString() => "DenseZY";
    }
}
