using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GpuDeconv.Compute;

/// <summary>A contiguous window of elements in device, CPU, shared or local memory, passed to kernels by value.</summary>
/// <remarks>
/// A view does not own its memory. On the CPU accelerator it also carries the host address of its
/// first element, so kernels running as C# index it directly.
/// </remarks>
[StructLayout(LayoutKind.Auto)]
public readonly unsafe struct ArrayView<T> where T : unmanaged
{
    // Address of element 0 of this view when host-addressable, else 0.
    private readonly nint _pointer;

    internal ArrayView(DeviceMemory? memory, long index, long length)
    {
        Memory = memory;
        Index = index;
        Length = length;
        nint basePointer = memory?.HostPointer ?? 0;
        _pointer = basePointer == 0 ? 0 : basePointer + (nint)(index * sizeof(T));
    }

    // Host memory without a DeviceMemory: shared and local memory on the CPU accelerator.
    internal ArrayView(nint pointer, long length)
    {
        Memory = null;
        Index = 0;
        Length = length;
        _pointer = pointer;
    }

    private ArrayView(DeviceMemory? memory, long index, long length, nint pointer)
    {
        Memory = memory;
        Index = index;
        Length = length;
        _pointer = pointer;
    }

    /// <summary>An empty view.</summary>
    public static ArrayView<T> Empty => default;

    /// <summary>The memory this view lies in; null for empty views and CPU shared or local memory.</summary>
    public DeviceMemory? Memory { get; }

    /// <summary>The element offset of this view inside <see cref="Memory"/>.</summary>
    public long Index { get; }

    public long Length { get; }

    /// <summary>The length as an int.</summary>
    /// <exception cref="OverflowException">The view has more than int.MaxValue elements.</exception>
    public int IntLength => checked((int)Length);

    public long LengthInBytes => Length * sizeof(T);

    public int ElementSize => sizeof(T);

    /// <summary>True when the view has at least one element.</summary>
    public bool IsValid => Length > 0;

    /// <summary>True when the host can address the elements directly (CPU accelerator memory).</summary>
    public bool IsHostAddressable => _pointer != 0;

    internal nint HostPointer => _pointer;

    public ref T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref this[(long)index];
    }

    public ref T this[long index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if ((ulong)index >= (ulong)Length) ThrowIndexOutOfRange(index, Length);
            if (_pointer == 0) ThrowNotHostAddressable();
            return ref Unsafe.Add(ref Unsafe.AsRef<T>((void*)_pointer), (nint)index);
        }
    }

    public ref T this[Index1D index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref this[(long)index.X];
    }

    public ref T this[LongIndex1D index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref this[index.X];
    }

    /// <summary>The elements [index, index + length) of this view.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range does not lie inside the view.</exception>
    public ArrayView<T> SubView(long index, long length)
    {
        if (index < 0 || length < 0 || index > Length || length > Length - index)
            throw new ArgumentOutOfRangeException(nameof(index),
                $"SubView({index}, {length}) does not lie inside a view of length {Length}.");
        return new ArrayView<T>(Memory, Index + index, length, _pointer == 0 ? 0 : _pointer + (nint)(index * sizeof(T)));
    }

    /// <inheritdoc cref="SubView(long, long)"/>
    public ArrayView<T> SubView(int index, int length) => SubView((long)index, length);

    /// <summary>The elements from <paramref name="index"/> to the end of this view.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index lies outside the view.</exception>
    public ArrayView<T> SubView(long index) => SubView(index, Length - index);

    /// <summary>Reinterprets the bytes of this view as elements of <typeparamref name="TOther"/>; a partial trailing element is dropped.</summary>
    /// <exception cref="ArgumentException">The view's byte offset is not a multiple of the new element size.</exception>
    public ArrayView<TOther> Cast<TOther>() where TOther : unmanaged
    {
        long offsetBytes = Index * sizeof(T);
        if (offsetBytes % sizeof(TOther) != 0)
            throw new ArgumentException(
                $"Cannot cast a view of {typeof(T).Name} at byte offset {offsetBytes} to {typeof(TOther).Name}: the offset is not a multiple of {sizeof(TOther)} bytes.");
        long length = LengthInBytes / sizeof(TOther);
        if (Memory is null) return new ArrayView<TOther>(_pointer, length);
        return new ArrayView<TOther>(Memory, offsetBytes / sizeof(TOther), length);
    }

    /// <summary>The elements as a span (host-addressable views only).</summary>
    /// <exception cref="InvalidOperationException">The view lies in device memory.</exception>
    public Span<T> AsSpan()
    {
        if (Length == 0) return [];
        if (_pointer == 0) ThrowNotHostAddressable();
        return new Span<T>((void*)_pointer, IntLength);
    }

    /// <summary>This view as a 1-D view with a dense stride.</summary>
    public ArrayView1D<T, Stride1D.Dense> AsContiguous() => new(this);

    /// <summary>This view as a 2-D view of <paramref name="extent"/> in the layout <typeparamref name="TStride"/>.</summary>
    /// <exception cref="ArgumentException">The extent's size differs from the view's length.</exception>
    public ArrayView2D<T, TStride> As2DView<TStride>(LongIndex2D extent) where TStride : struct, IStride2D => new(this, extent);

    /// <summary>This view as a 3-D view of <paramref name="extent"/> in the layout <typeparamref name="TStride"/>.</summary>
    /// <exception cref="ArgumentException">The extent's size differs from the view's length.</exception>
    public ArrayView3D<T, TStride> As3DView<TStride>(LongIndex3D extent) where TStride : struct, IStride3D => new(this, extent);

    // ---- host operations (ILGPU has these as extension methods) ----

    /// <summary>Copies <paramref name="source"/> into this view on the default stream.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void CopyFromCPU(T[] source)
    {
        ArgumentNullException.ThrowIfNull(source);
        CopyFromCPU(source.AsSpan());
    }

    /// <inheritdoc cref="CopyFromCPU(T[])"/>
    public void CopyFromCPU(ReadOnlySpan<T> source) => CopyFromCPU(DefaultStream, source);

    /// <summary>Copies <paramref name="source"/> into this view on <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void CopyFromCPU(AcceleratorStream stream, T[] source)
    {
        ArgumentNullException.ThrowIfNull(source);
        CopyFromCPU(stream, source.AsSpan());
    }

    /// <inheritdoc cref="CopyFromCPU(AcceleratorStream, T[])"/>
    public void CopyFromCPU(AcceleratorStream? stream, ReadOnlySpan<T> source)
    {
        CheckLength(source.Length, nameof(source), "CopyFromCPU");
        if (Length == 0) return;
        if (Memory is null)
        {
            source.CopyTo(AsSpan());
            return;
        }
        Memory.ThrowIfDisposed();
        CheckStream(stream!).CopyFromHost(Memory, Index * sizeof(T), MemoryMarshal.AsBytes(source));
    }

    /// <summary>Copies this view into <paramref name="destination"/> on the default stream.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void CopyToCPU(T[] destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        CopyToCPU(destination.AsSpan());
    }

    /// <inheritdoc cref="CopyToCPU(T[])"/>
    public void CopyToCPU(Span<T> destination) => CopyToCPU(DefaultStream, destination);

    /// <summary>Copies this view into <paramref name="destination"/>, waiting for prior work on <paramref name="stream"/>.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void CopyToCPU(AcceleratorStream stream, T[] destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        CopyToCPU(stream, destination.AsSpan());
    }

    /// <inheritdoc cref="CopyToCPU(AcceleratorStream, T[])"/>
    public void CopyToCPU(AcceleratorStream? stream, Span<T> destination)
    {
        CheckLength(destination.Length, nameof(destination), "CopyToCPU");
        if (Length == 0) return;
        if (Memory is null)
        {
            AsSpan().CopyTo(destination);
            return;
        }
        Memory.ThrowIfDisposed();
        CheckStream(stream!).CopyToHost(Memory, Index * sizeof(T), MemoryMarshal.AsBytes(destination));
    }

    /// <summary>Copies this view into a new array.</summary>
    public T[] GetAsArray1D() => GetAsArray1D(DefaultStream);

    /// <inheritdoc cref="GetAsArray1D()"/>
    public T[] GetAsArray1D(AcceleratorStream? stream)
    {
        var result = new T[IntLength];
        CopyToCPU(stream, result.AsSpan());
        return result;
    }

    /// <summary>Sets every byte of this view to zero.</summary>
    public void MemSetToZero() => MemSet(DefaultStream, 0);

    /// <inheritdoc cref="MemSetToZero()"/>
    public void MemSetToZero(AcceleratorStream? stream) => MemSet(stream, 0);

    /// <summary>Sets every byte of this view to <paramref name="value"/>.</summary>
    public void MemSet(byte value) => MemSet(DefaultStream, value);

    /// <inheritdoc cref="MemSet(byte)"/>
    public void MemSet(AcceleratorStream? stream, byte value)
    {
        if (Length == 0) return;
        if (Memory is null)
        {
            MemoryMarshal.AsBytes(AsSpan()).Fill(value);
            return;
        }
        Memory.ThrowIfDisposed();
        CheckStream(stream!).Fill(Memory, Index * sizeof(T), LengthInBytes, value);
    }

    /// <summary>Copies this view into <paramref name="target"/>, which may lie on another accelerator.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void CopyTo(ArrayView<T> target) => CopyTo(DefaultStream, target);

    /// <inheritdoc cref="CopyTo(ArrayView{T})"/>
    public void CopyTo(AcceleratorStream? stream, ArrayView<T> target)
    {
        if (target.Length != Length)
            throw new ArgumentException($"CopyTo: the source view has {Length} elements but the target view has {target.Length}; they must be equal.", nameof(target));
        if (Length == 0) return;
        if (Memory is not null && target.Memory is not null && ReferenceEquals(Memory.Accelerator, target.Memory.Accelerator))
        {
            Memory.ThrowIfDisposed();
            target.Memory.ThrowIfDisposed();
            CheckStream(stream!).CopyDeviceToDevice(Memory, Index * sizeof(T), target.Memory, target.Index * sizeof(T), LengthInBytes);
            return;
        }
        // Different accelerators (or CPU shared memory): stage through the host.
        var staging = GetAsArray1D(Memory is null ? null : stream is not null && ReferenceEquals(stream.Accelerator, Memory.Accelerator) ? stream : Memory.Accelerator.DefaultStream);
        target.CopyFromCPU(target.Memory?.Accelerator.DefaultStream, staging.AsSpan());
    }

    /// <summary>Copies <paramref name="source"/> into this view.</summary>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public void CopyFrom(ArrayView<T> source) => source.CopyTo(DefaultStream, this);

    /// <inheritdoc cref="CopyFrom(ArrayView{T})"/>
    public void CopyFrom(AcceleratorStream? stream, ArrayView<T> source) => source.CopyTo(stream, this);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"ArrayView<{typeof(T).Name}>[{Length}] at {Index}");

    private AcceleratorStream? DefaultStream => Memory?.Accelerator.DefaultStream;

    private AcceleratorStream CheckStream(AcceleratorStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!ReferenceEquals(stream.Accelerator, Memory!.Accelerator))
            throw new ArgumentException(
                $"The stream belongs to accelerator '{stream.Accelerator.Name}', but the view's memory lies on '{Memory.Accelerator.Name}'.", nameof(stream));
        return stream;
    }

    private void CheckLength(int hostLength, string parameter, string operation)
    {
        if (hostLength != Length)
            throw new ArgumentException(
                $"{operation}: the host buffer has {hostLength} elements but the view has {Length}; they must be equal.", parameter);
    }

    [DoesNotReturn]
    private static void ThrowIndexOutOfRange(long index, long length) =>
        throw new IndexOutOfRangeException($"Index {index} is outside the view of length {length}.");

    [DoesNotReturn]
    internal static void ThrowNotHostAddressable() =>
        throw new InvalidOperationException(
            "This view lies in device memory, which cannot be indexed on the host; copy it first (GetAsArray1D/CopyToCPU).");
}
