using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GpuDeconv.Compute;

/// <summary>A 1-D view with a stride type, converting implicitly to and from <see cref="ArrayView{T}"/> (ILGPU's <c>ArrayView1D</c>).</summary>
public readonly struct ArrayView1D<T, TStride>(ArrayView<T> baseView)
    where T : unmanaged
    where TStride : struct, IStride1D
{
    public ArrayView<T> BaseView { get; } = baseView;

    public long Length => BaseView.Length;

    public int IntLength => BaseView.IntLength;

    public long LengthInBytes => BaseView.LengthInBytes;

    public LongIndex1D Extent => new(BaseView.Length);

    public Index1D IntExtent => new(BaseView.IntLength);

    public TStride Stride => default;

    public bool IsValid => BaseView.IsValid;

    public ref T this[int index] => ref BaseView[index];

    public ref T this[long index] => ref BaseView[index];

    public ref T this[Index1D index] => ref BaseView[index];

    public ref T this[LongIndex1D index] => ref BaseView[index];

    public static implicit operator ArrayView<T>(ArrayView1D<T, TStride> view) => view.BaseView;

    public static implicit operator ArrayView1D<T, TStride>(ArrayView<T> view) => new(view);

    public ArrayView<T> AsContiguous() => BaseView;

    /// <inheritdoc cref="ArrayView{T}.SubView(long, long)"/>
    public ArrayView1D<T, TStride> SubView(long index, long length) => new(BaseView.SubView(index, length));

    /// <inheritdoc cref="ArrayView{T}.Cast{TOther}"/>
    public ArrayView<TOther> Cast<TOther>() where TOther : unmanaged => BaseView.Cast<TOther>();

    /// <inheritdoc cref="ArrayView{T}.CopyFromCPU(ReadOnlySpan{T})"/>
    public void CopyFromCPU(ReadOnlySpan<T> source) => BaseView.CopyFromCPU(source);

    /// <inheritdoc cref="ArrayView{T}.CopyFromCPU(AcceleratorStream, ReadOnlySpan{T})"/>
    public void CopyFromCPU(AcceleratorStream stream, ReadOnlySpan<T> source) => BaseView.CopyFromCPU(stream, source);

    /// <inheritdoc cref="ArrayView{T}.CopyToCPU(Span{T})"/>
    public void CopyToCPU(Span<T> destination) => BaseView.CopyToCPU(destination);

    /// <inheritdoc cref="ArrayView{T}.CopyToCPU(AcceleratorStream, Span{T})"/>
    public void CopyToCPU(AcceleratorStream stream, Span<T> destination) => BaseView.CopyToCPU(stream, destination);

    /// <inheritdoc cref="ArrayView{T}.GetAsArray1D()"/>
    public T[] GetAsArray1D() => BaseView.GetAsArray1D();

    /// <inheritdoc cref="ArrayView{T}.MemSetToZero()"/>
    public void MemSetToZero() => BaseView.MemSetToZero();

    /// <inheritdoc cref="ArrayView{T}.CopyTo(ArrayView{T})"/>
    public void CopyTo(ArrayView<T> target) => BaseView.CopyTo(target);

    /// <inheritdoc cref="ArrayView{T}.CopyFrom(ArrayView{T})"/>
    public void CopyFrom(ArrayView<T> source) => BaseView.CopyFrom(source);

    public override string ToString() => BaseView.ToString();
}

/// <summary>A dense 2-D view; element (x, y) lies at <typeparamref name="TStride"/>'s offset in <see cref="BaseView"/>.</summary>
public readonly struct ArrayView2D<T, TStride>
    where T : unmanaged
    where TStride : struct, IStride2D
{
    /// <summary>Wraps <paramref name="baseView"/> as a 2-D view of <paramref name="extent"/>.</summary>
    /// <exception cref="ArgumentException">The extent's size differs from the view's length.</exception>
    public ArrayView2D(ArrayView<T> baseView, LongIndex2D extent)
    {
        if (extent.X < 0 || extent.Y < 0 || extent.X * extent.Y != baseView.Length)
            throw new ArgumentException($"A 2-D view of extent {extent} needs {extent.X * extent.Y} elements, but the base view has {baseView.Length}.", nameof(extent));
        BaseView = baseView;
        Extent = extent;
    }

    public ArrayView<T> BaseView { get; }

    public LongIndex2D Extent { get; }

    /// <exception cref="OverflowException">An extent component does not fit in an int.</exception>
    public Index2D IntExtent => Extent.ToIntIndex();

    public long Length => BaseView.Length;

    public int IntLength => BaseView.IntLength;

    public long LengthInBytes => BaseView.LengthInBytes;

    public TStride Stride => default;

    public bool IsValid => BaseView.IsValid;

    public ref T this[int x, int y] => ref this[(long)x, y];

    public ref T this[long x, long y]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((ulong)x >= (ulong)Extent.X || (ulong)y >= (ulong)Extent.Y) ThrowOutOfRange(x, y, Extent);
            return ref BaseView[default(TStride).ComputeElementIndex(x, y, Extent)];
        }
    }

    public ref T this[Index2D index] => ref this[index.X, (long)index.Y];

    public ref T this[LongIndex2D index] => ref this[index.X, index.Y];

    /// <summary>Copies <paramref name="source"/> (element [x, y] to (x, y)) into this view.</summary>
    /// <exception cref="ArgumentException">The array's dimensions differ from <see cref="Extent"/>.</exception>
    public void CopyFromCPU(T[,] source) => CopyFromCPU(BaseView.Memory?.Accelerator.DefaultStream!, source);

    /// <inheritdoc cref="CopyFromCPU(T[,])"/>
    public void CopyFromCPU(AcceleratorStream stream, T[,] source)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckShape(source.GetLength(0), source.GetLength(1), nameof(source));
        var flat = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference((Array)source)), source.Length);
        if (typeof(TStride) == typeof(Stride2D.DenseY))
        {
            BaseView.CopyFromCPU(stream, flat);
            return;
        }
        var staging = new T[flat.Length];
        for (long x = 0; x < Extent.X; x++)
            for (long y = 0; y < Extent.Y; y++)
                staging[default(TStride).ComputeElementIndex(x, y, Extent)] = flat[(int)(x * Extent.Y + y)];
        BaseView.CopyFromCPU(stream, staging);
    }

    /// <summary>Copies this view into a new array with element (x, y) at [x, y].</summary>
    public T[,] GetAsArray2D() => GetAsArray2D(BaseView.Memory?.Accelerator.DefaultStream!);

    /// <inheritdoc cref="GetAsArray2D()"/>
    public T[,] GetAsArray2D(AcceleratorStream stream)
    {
        var result = new T[IntExtent.X, IntExtent.Y];
        var flat = MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference((Array)result)), result.Length);
        if (typeof(TStride) == typeof(Stride2D.DenseY))
        {
            BaseView.CopyToCPU(stream, flat);
            return result;
        }
        var staging = BaseView.GetAsArray1D(stream);
        for (long x = 0; x < Extent.X; x++)
            for (long y = 0; y < Extent.Y; y++)
                flat[(int)(x * Extent.Y + y)] = staging[default(TStride).ComputeElementIndex(x, y, Extent)];
        return result;
    }

    /// <inheritdoc cref="ArrayView{T}.MemSetToZero()"/>
    public void MemSetToZero() => BaseView.MemSetToZero();

    /// <summary>Copies all elements into <paramref name="target"/> (same extent and stride).</summary>
    /// <exception cref="ArgumentException">The extents differ.</exception>
    public void CopyTo(ArrayView2D<T, TStride> target)
    {
        if (target.Extent != Extent)
            throw new ArgumentException($"CopyTo: the source extent {Extent} differs from the target extent {target.Extent}.", nameof(target));
        BaseView.CopyTo(target.BaseView);
    }

    public static implicit operator ArrayView<T>(ArrayView2D<T, TStride> view) => view.BaseView;

    public override string ToString() => $"ArrayView2D<{typeof(T).Name}, {typeof(TStride).Name}>{Extent}";

    private void CheckShape(int x, int y, string parameter)
    {
        if (x != Extent.X || y != Extent.Y)
            throw new ArgumentException($"The array is [{x}, {y}] but the 2-D view's extent is {Extent}; they must be equal.", parameter);
    }

    [DoesNotReturn]
    private static void ThrowOutOfRange(long x, long y, LongIndex2D extent) =>
        throw new IndexOutOfRangeException($"Index ({x}, {y}) is outside the 2-D view of extent {extent}.");
}

/// <summary>A dense 3-D view; element (x, y, z) lies at <typeparamref name="TStride"/>'s offset in <see cref="BaseView"/>.</summary>
public readonly struct ArrayView3D<T, TStride>
    where T : unmanaged
    where TStride : struct, IStride3D
{
    /// <summary>Wraps <paramref name="baseView"/> as a 3-D view of <paramref name="extent"/>.</summary>
    /// <exception cref="ArgumentException">The extent's size differs from the view's length.</exception>
    public ArrayView3D(ArrayView<T> baseView, LongIndex3D extent)
    {
        if (extent.X < 0 || extent.Y < 0 || extent.Z < 0 || extent.X * extent.Y * extent.Z != baseView.Length)
            throw new ArgumentException($"A 3-D view of extent {extent} needs {extent.X * extent.Y * extent.Z} elements, but the base view has {baseView.Length}.", nameof(extent));
        BaseView = baseView;
        Extent = extent;
    }

    public ArrayView<T> BaseView { get; }

    public LongIndex3D Extent { get; }

    /// <exception cref="OverflowException">An extent component does not fit in an int.</exception>
    public Index3D IntExtent => Extent.ToIntIndex();

    public long Length => BaseView.Length;

    public int IntLength => BaseView.IntLength;

    public long LengthInBytes => BaseView.LengthInBytes;

    public TStride Stride => default;

    public bool IsValid => BaseView.IsValid;

    public ref T this[int x, int y, int z] => ref this[(long)x, y, z];

    public ref T this[long x, long y, long z]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((ulong)x >= (ulong)Extent.X || (ulong)y >= (ulong)Extent.Y || (ulong)z >= (ulong)Extent.Z) ThrowOutOfRange(x, y, z, Extent);
            return ref BaseView[default(TStride).ComputeElementIndex(x, y, z, Extent)];
        }
    }

    public ref T this[Index3D index] => ref this[index.X, index.Y, (long)index.Z];

    public ref T this[LongIndex3D index] => ref this[index.X, index.Y, index.Z];

    /// <summary>Copies <paramref name="source"/> (element [x, y, z] to (x, y, z)) into this view.</summary>
    /// <exception cref="ArgumentException">The array's dimensions differ from <see cref="Extent"/>.</exception>
    public void CopyFromCPU(T[,,] source) => CopyFromCPU(BaseView.Memory?.Accelerator.DefaultStream!, source);

    /// <inheritdoc cref="CopyFromCPU(T[,,])"/>
    public void CopyFromCPU(AcceleratorStream stream, T[,,] source)
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckShape(source.GetLength(0), source.GetLength(1), source.GetLength(2), nameof(source));
        var flat = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference((Array)source)), source.Length);
        if (typeof(TStride) == typeof(Stride3D.DenseZY))
        {
            BaseView.CopyFromCPU(stream, flat);
            return;
        }
        var staging = new T[flat.Length];
        for (long x = 0; x < Extent.X; x++)
            for (long y = 0; y < Extent.Y; y++)
                for (long z = 0; z < Extent.Z; z++)
                    staging[default(TStride).ComputeElementIndex(x, y, z, Extent)] = flat[(int)((x * Extent.Y + y) * Extent.Z + z)];
        BaseView.CopyFromCPU(stream, staging);
    }

    /// <summary>Copies this view into a new array with element (x, y, z) at [x, y, z].</summary>
    public T[,,] GetAsArray3D() => GetAsArray3D(BaseView.Memory?.Accelerator.DefaultStream!);

    /// <inheritdoc cref="GetAsArray3D()"/>
    public T[,,] GetAsArray3D(AcceleratorStream stream)
    {
        var result = new T[IntExtent.X, IntExtent.Y, IntExtent.Z];
        var flat = MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference((Array)result)), result.Length);
        if (typeof(TStride) == typeof(Stride3D.DenseZY))
        {
            BaseView.CopyToCPU(stream, flat);
            return result;
        }
        var staging = BaseView.GetAsArray1D(stream);
        for (long x = 0; x < Extent.X; x++)
            for (long y = 0; y < Extent.Y; y++)
                for (long z = 0; z < Extent.Z; z++)
                    flat[(int)((x * Extent.Y + y) * Extent.Z + z)] = staging[default(TStride).ComputeElementIndex(x, y, z, Extent)];
        return result;
    }

    /// <inheritdoc cref="ArrayView{T}.MemSetToZero()"/>
    public void MemSetToZero() => BaseView.MemSetToZero();

    /// <summary>Copies all elements into <paramref name="target"/> (same extent and stride).</summary>
    /// <exception cref="ArgumentException">The extents differ.</exception>
    public void CopyTo(ArrayView3D<T, TStride> target)
    {
        if (target.Extent != Extent)
            throw new ArgumentException($"CopyTo: the source extent {Extent} differs from the target extent {target.Extent}.", nameof(target));
        BaseView.CopyTo(target.BaseView);
    }

    public static implicit operator ArrayView<T>(ArrayView3D<T, TStride> view) => view.BaseView;

    public override string ToString() => $"ArrayView3D<{typeof(T).Name}, {typeof(TStride).Name}>{Extent}";

    private void CheckShape(int x, int y, int z, string parameter)
    {
        if (x != Extent.X || y != Extent.Y || z != Extent.Z)
            throw new ArgumentException($"The array is [{x}, {y}, {z}] but the 3-D view's extent is {Extent}; they must be equal.", parameter);
    }

    [DoesNotReturn]
    private static void ThrowOutOfRange(long x, long y, long z, LongIndex3D extent) =>
        throw new IndexOutOfRangeException($"Index ({x}, {y}, {z}) is outside the 3-D view of extent {extent}.");
}
