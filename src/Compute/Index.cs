using System.Globalization;

namespace GpuDeconv.Compute;

/// <summary>An index or extent of a kernel launch or view (ILGPU's <c>IIndex</c>).</summary>
public interface IIndex
{
    /// <summary>The number of elements an extent of this value spans, as a long.</summary>
    long LongSize { get; }
}

/// <summary>A 1-D index or extent with 32-bit components.</summary>
public readonly record struct Index1D(int X) : IIndex, IComparable<Index1D>
{
    public static Index1D Zero => default;

    public static Index1D One => new(1);

    public int Size => X;

    public long LongSize => X;

    public static implicit operator Index1D(int x) => new(x);

    public static implicit operator int(Index1D index) => index.X;

    public static implicit operator LongIndex1D(Index1D index) => new(index.X);

    public static Index1D operator +(Index1D a, Index1D b) => new(a.X + b.X);

    public static Index1D operator -(Index1D a, Index1D b) => new(a.X - b.X);

    public static bool operator <(Index1D a, Index1D b) => a.X < b.X;

    public static bool operator >(Index1D a, Index1D b) => a.X > b.X;

    public static bool operator <=(Index1D a, Index1D b) => a.X <= b.X;

    public static bool operator >=(Index1D a, Index1D b) => a.X >= b.X;

    public int CompareTo(Index1D other) => X.CompareTo(other.X);

    public override string ToString() => X.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A 2-D index or extent with 32-bit components; X varies fastest when linearised.</summary>
public readonly record struct Index2D(int X, int Y) : IIndex
{
    public static Index2D Zero => default;

    public static Index2D One => new(1, 1);

    /// <summary>X * Y.</summary>
    public int Size => X * Y;

    public long LongSize => (long)X * Y;

    public static implicit operator Index2D(Index1D index) => new(index.X, 1);

    public static implicit operator LongIndex2D(Index2D index) => new(index.X, index.Y);

    public static Index2D operator +(Index2D a, Index2D b) => new(a.X + b.X, a.Y + b.Y);

    public static Index2D operator -(Index2D a, Index2D b) => new(a.X - b.X, a.Y - b.Y);

    /// <summary>The X-fastest linear index of this index inside <paramref name="dimension"/>.</summary>
    public int ComputeLinearIndex(Index2D dimension) => X + Y * dimension.X;

    /// <summary>The index whose X-fastest linear index inside <paramref name="dimension"/> is <paramref name="linearIndex"/>.</summary>
    public static Index2D ReconstructIndex(int linearIndex, Index2D dimension) =>
        new(linearIndex % dimension.X, linearIndex / dimension.X);

    /// <summary>True when every component lies in [0, dimension).</summary>
    public bool InBounds(Index2D dimension) => (uint)X < (uint)dimension.X && (uint)Y < (uint)dimension.Y;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({X}, {Y})");
}

/// <summary>A 3-D index or extent with 32-bit components; X varies fastest, then Y, when linearised.</summary>
public readonly record struct Index3D(int X, int Y, int Z) : IIndex
{
    public Index3D(Index2D xy, int z) : this(xy.X, xy.Y, z)
    {
    }

    public static Index3D Zero => default;

    public static Index3D One => new(1, 1, 1);

    /// <summary>X * Y * Z.</summary>
    public int Size => X * Y * Z;

    public long LongSize => (long)X * Y * Z;

    public Index2D XY => new(X, Y);

    public static implicit operator Index3D(Index1D index) => new(index.X, 1, 1);

    public static implicit operator Index3D(Index2D index) => new(index.X, index.Y, 1);

    public static implicit operator LongIndex3D(Index3D index) => new(index.X, index.Y, index.Z);

    public static Index3D operator +(Index3D a, Index3D b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);

    public static Index3D operator -(Index3D a, Index3D b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);

    /// <summary>The X-fastest linear index of this index inside <paramref name="dimension"/>.</summary>
    public int ComputeLinearIndex(Index3D dimension) => X + dimension.X * (Y + dimension.Y * Z);

    /// <summary>The index whose X-fastest linear index inside <paramref name="dimension"/> is <paramref name="linearIndex"/>.</summary>
    public static Index3D ReconstructIndex(int linearIndex, Index3D dimension) =>
        new(linearIndex % dimension.X, linearIndex / dimension.X % dimension.Y, linearIndex / (dimension.X * dimension.Y));

    /// <summary>True when every component lies in [0, dimension).</summary>
    public bool InBounds(Index3D dimension) =>
        (uint)X < (uint)dimension.X && (uint)Y < (uint)dimension.Y && (uint)Z < (uint)dimension.Z;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({X}, {Y}, {Z})");
}

/// <summary>A 1-D index or extent with 64-bit components.</summary>
public readonly record struct LongIndex1D(long X) : IIndex, IComparable<LongIndex1D>
{
    public static LongIndex1D Zero => default;

    public long Size => X;

    public long LongSize => X;

    /// <summary>This index as an <see cref="Index1D"/>.</summary>
    /// <exception cref="OverflowException">X does not fit in an int.</exception>
    public Index1D ToIntIndex() => new(checked((int)X));

    public static implicit operator LongIndex1D(long x) => new(x);

    public static implicit operator long(LongIndex1D index) => index.X;

    public static explicit operator Index1D(LongIndex1D index) => index.ToIntIndex();

    public static LongIndex1D operator +(LongIndex1D a, LongIndex1D b) => new(a.X + b.X);

    public static LongIndex1D operator -(LongIndex1D a, LongIndex1D b) => new(a.X - b.X);

    public int CompareTo(LongIndex1D other) => X.CompareTo(other.X);

    public override string ToString() => X.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A 2-D index or extent with 64-bit components.</summary>
public readonly record struct LongIndex2D(long X, long Y) : IIndex
{
    public static LongIndex2D Zero => default;

    public long Size => X * Y;

    public long LongSize => X * Y;

    /// <summary>This index as an <see cref="Index2D"/>.</summary>
    /// <exception cref="OverflowException">A component does not fit in an int.</exception>
    public Index2D ToIntIndex() => new(checked((int)X), checked((int)Y));

    public static explicit operator Index2D(LongIndex2D index) => index.ToIntIndex();

    public static LongIndex2D operator +(LongIndex2D a, LongIndex2D b) => new(a.X + b.X, a.Y + b.Y);

    public static LongIndex2D operator -(LongIndex2D a, LongIndex2D b) => new(a.X - b.X, a.Y - b.Y);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({X}, {Y})");
}

/// <summary>A 3-D index or extent with 64-bit components.</summary>
public readonly record struct LongIndex3D(long X, long Y, long Z) : IIndex
{
    public static LongIndex3D Zero => default;

    public long Size => X * Y * Z;

    public long LongSize => X * Y * Z;

    public LongIndex2D XY => new(X, Y);

    /// <summary>This index as an <see cref="Index3D"/>.</summary>
    /// <exception cref="OverflowException">A component does not fit in an int.</exception>
    public Index3D ToIntIndex() => new(checked((int)X), checked((int)Y), checked((int)Z));

    public static explicit operator Index3D(LongIndex3D index) => index.ToIntIndex();

    public static LongIndex3D operator +(LongIndex3D a, LongIndex3D b) => new(a.X + b.X, a.Y + b.Y, a.Z + b.Z);

    public static LongIndex3D operator -(LongIndex3D a, LongIndex3D b) => new(a.X - b.X, a.Y - b.Y, a.Z - b.Z);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"({X}, {Y}, {Z})");
}
