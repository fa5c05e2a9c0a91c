using System.Runtime.CompilerServices;

namespace GpuDeconv.Compute;

/// <summary>Memory owned by an accelerator; disposing it frees the memory, and views into it become invalid.</summary>
public abstract class MemoryBuffer : IDisposable
{
    private protected MemoryBuffer(DeviceMemory memory, int elementSize)
    {
        Memory = memory;
        ElementSize = elementSize;
    }

    public Accelerator Accelerator => Memory.Accelerator;

    public long LengthInBytes => Memory.LengthInBytes;

    public int ElementSize { get; }

    public bool IsDisposed => Memory.IsDisposed;

    /// <summary>The backend allocation behind this buffer.</summary>
    public DeviceMemory Memory { get; }

    public void Dispose()
    {
        Memory.Dispose();
        GC.SuppressFinalize(this);
    }

    public override string ToString() => $"{GetType().Name.Split('`')[0]} of {LengthInBytes} bytes on {Accelerator.Name}";
}

/// <summary>A 1-D buffer (ILGPU's <c>MemoryBuffer1D</c>); <see cref="View"/> converts implicitly to <see cref="ArrayView{T}"/>.</summary>
public sealed class MemoryBuffer1D<T, TStride> : MemoryBuffer
    where T : unmanaged
    where TStride : struct, IStride1D
{
    internal MemoryBuffer1D(DeviceMemory memory, long length) : base(memory, Unsafe.SizeOf<T>())
    {
        View = new ArrayView1D<T, TStride>(new ArrayView<T>(memory, 0, length));
    }

    public ArrayView1D<T, TStride> View { get; }

    public long Length => View.Length;

    public int IntLength => View.IntLength;

    public LongIndex1D Extent => View.Extent;

    public Index1D IntExtent => View.IntExtent;

    public static implicit operator ArrayView<T>(MemoryBuffer1D<T, TStride> buffer) => buffer.View.BaseView;

    public static implicit operator ArrayView1D<T, TStride>(MemoryBuffer1D<T, TStride> buffer) => buffer.View;

    /// <summary>Reinterprets the buffer's bytes as elements of <typeparamref name="TElement"/>.</summary>
    public ArrayView<TElement> AsArrayView<TElement>() where TElement : unmanaged => View.BaseView.Cast<TElement>();

    /// <summary>The elements [offset, offset + length) of the buffer reinterpreted as <typeparamref name="TElement"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie inside the buffer.</exception>
    public ArrayView<TElement> AsArrayView<TElement>(long offset, long length) where TElement : unmanaged =>
        View.BaseView.Cast<TElement>().SubView(offset, length);

    /// <inheritdoc cref="ArrayView{T}.CopyFromCPU(T[])"/>
    public void CopyFromCPU(T[] source) => View.BaseView.CopyFromCPU(source);

    /// <inheritdoc cref="ArrayView{T}.CopyFromCPU(ReadOnlySpan{T})"/>
    public void CopyFromCPU(ReadOnlySpan<T> source) => View.BaseView.CopyFromCPU(source);

    /// <inheritdoc cref="ArrayView{T}.CopyFromCPU(AcceleratorStream, T[])"/>
    public void CopyFromCPU(AcceleratorStream stream, T[] source) => View.BaseView.CopyFromCPU(stream, source);

    /// <inheritdoc cref="ArrayView{T}.CopyFromCPU(AcceleratorStream, ReadOnlySpan{T})"/>
    public void CopyFromCPU(AcceleratorStream stream, ReadOnlySpan<T> source) => View.BaseView.CopyFromCPU(stream, source);

    /// <inheritdoc cref="ArrayView{T}.CopyToCPU(T[])"/>
    public void CopyToCPU(T[] destination) => View.BaseView.CopyToCPU(destination);

    /// <inheritdoc cref="ArrayView{T}.CopyToCPU(Span{T})"/>
    public void CopyToCPU(Span<T> destination) => View.BaseView.CopyToCPU(destination);

    /// <inheritdoc cref="ArrayView{T}.CopyToCPU(AcceleratorStream, T[])"/>
    public void CopyToCPU(AcceleratorStream stream, T[] destination) => View.BaseView.CopyToCPU(stream, destination);

    /// <inheritdoc cref="ArrayView{T}.CopyToCPU(AcceleratorStream, Span{T})"/>
    public void CopyToCPU(AcceleratorStream stream, Span<T> destination) => View.BaseView.CopyToCPU(stream, destination);

    /// <inheritdoc cref="ArrayView{T}.GetAsArray1D()"/>
    public T[] GetAsArray1D() => View.BaseView.GetAsArray1D();

    /// <inheritdoc cref="ArrayView{T}.GetAsArray1D(AcceleratorStream)"/>
    public T[] GetAsArray1D(AcceleratorStream stream) => View.BaseView.GetAsArray1D(stream);

    /// <inheritdoc cref="ArrayView{T}.MemSetToZero()"/>
    public void MemSetToZero() => View.BaseView.MemSetToZero();

    /// <inheritdoc cref="ArrayView{T}.MemSetToZero(AcceleratorStream)"/>
    public void MemSetToZero(AcceleratorStream stream) => View.BaseView.MemSetToZero(stream);

    /// <inheritdoc cref="ArrayView{T}.MemSet(byte)"/>
    public void MemSet(byte value) => View.BaseView.MemSet(value);

    /// <inheritdoc cref="ArrayView{T}.CopyTo(ArrayView{T})"/>
    public void CopyTo(ArrayView<T> target) => View.BaseView.CopyTo(target);

    /// <inheritdoc cref="ArrayView{T}.CopyFrom(ArrayView{T})"/>
    public void CopyFrom(ArrayView<T> source) => View.BaseView.CopyFrom(source);
}

/// <summary>A 2-D buffer (ILGPU's <c>MemoryBuffer2D</c>) whose layout is <typeparamref name="TStride"/>.</summary>
public sealed class MemoryBuffer2D<T, TStride> : MemoryBuffer
    where T : unmanaged
    where TStride : struct, IStride2D
{
    internal MemoryBuffer2D(DeviceMemory memory, LongIndex2D extent) : base(memory, Unsafe.SizeOf<T>())
    {
        View = new ArrayView2D<T, TStride>(new ArrayView<T>(memory, 0, extent.X * extent.Y), extent);
    }

    public ArrayView2D<T, TStride> View { get; }

    public long Length => View.Length;

    public LongIndex2D Extent => View.Extent;

    public Index2D IntExtent => View.IntExtent;

    public static implicit operator ArrayView2D<T, TStride>(MemoryBuffer2D<T, TStride> buffer) => buffer.View;

    /// <inheritdoc cref="ArrayView2D{T, TStride}.CopyFromCPU(T[,])"/>
    public void CopyFromCPU(T[,] source) => View.CopyFromCPU(source);

    /// <inheritdoc cref="ArrayView2D{T, TStride}.CopyFromCPU(AcceleratorStream, T[,])"/>
    public void CopyFromCPU(AcceleratorStream stream, T[,] source) => View.CopyFromCPU(stream, source);

    /// <inheritdoc cref="ArrayView2D{T, TStride}.GetAsArray2D()"/>
    public T[,] GetAsArray2D() => View.GetAsArray2D();

    /// <inheritdoc cref="ArrayView2D{T, TStride}.GetAsArray2D(AcceleratorStream)"/>
    public T[,] GetAsArray2D(AcceleratorStream stream) => View.GetAsArray2D(stream);

    /// <summary>The elements in memory order.</summary>
    public T[] GetAsArray1D() => View.BaseView.GetAsArray1D();

    /// <inheritdoc cref="ArrayView{T}.MemSetToZero()"/>
    public void MemSetToZero() => View.BaseView.MemSetToZero();
}

/// <summary>A 3-D buffer (ILGPU's <c>MemoryBuffer3D</c>) whose layout is <typeparamref name="TStride"/>.</summary>
public sealed class MemoryBuffer3D<T, TStride> : MemoryBuffer
    where T : unmanaged
    where TStride : struct, IStride3D
{
    internal MemoryBuffer3D(DeviceMemory memory, LongIndex3D extent) : base(memory, Unsafe.SizeOf<T>())
    {
        View = new ArrayView3D<T, TStride>(new ArrayView<T>(memory, 0, extent.X * extent.Y * extent.Z), extent);
    }

    public ArrayView3D<T, TStride> View { get; }

    public long Length => View.Length;

    public LongIndex3D Extent => View.Extent;

    public Index3D IntExtent => View.IntExtent;

    public static implicit operator ArrayView3D<T, TStride>(MemoryBuffer3D<T, TStride> buffer) => buffer.View;

    /// <inheritdoc cref="ArrayView3D{T, TStride}.CopyFromCPU(T[,,])"/>
    public void CopyFromCPU(T[,,] source) => View.CopyFromCPU(source);

    /// <inheritdoc cref="ArrayView3D{T, TStride}.CopyFromCPU(AcceleratorStream, T[,,])"/>
    public void CopyFromCPU(AcceleratorStream stream, T[,,] source) => View.CopyFromCPU(stream, source);

    /// <inheritdoc cref="ArrayView3D{T, TStride}.GetAsArray3D()"/>
    public T[,,] GetAsArray3D() => View.GetAsArray3D();

    /// <inheritdoc cref="ArrayView3D{T, TStride}.GetAsArray3D(AcceleratorStream)"/>
    public T[,,] GetAsArray3D(AcceleratorStream stream) => View.GetAsArray3D(stream);

    /// <summary>The elements in memory order.</summary>
    public T[] GetAsArray1D() => View.BaseView.GetAsArray1D();

    /// <inheritdoc cref="ArrayView{T}.MemSetToZero()"/>
    public void MemSetToZero() => View.BaseView.MemSetToZero();
}
