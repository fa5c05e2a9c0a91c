using System.Runtime.InteropServices;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>The element types GpuDeconv reads and writes in safetensors files; the names are the header's <c>dtype</c> strings.</summary>
public enum SafeTensorsDType
{
    /// <summary>Unsigned 8-bit integer (<see cref="byte"/>).</summary>
    U8,
    /// <summary>Signed 32-bit integer (<see cref="int"/>).</summary>
    I32,
    /// <summary>Signed 64-bit integer (<see cref="long"/>).</summary>
    I64,
    /// <summary>32-bit float (<see cref="float"/>).</summary>
    F32,
    /// <summary>64-bit float (<see cref="double"/>).</summary>
    F64,
}

/// <summary>A dense, row-major tensor in host memory: a shape, an element type and the elements.</summary>
public abstract class HostTensor
{
    private protected HostTensor(Shape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        Shape = shape;
    }

    /// <summary>The dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>The element type.</summary>
    public abstract SafeTensorsDType DType { get; }

    /// <summary>The elements as bytes in host order (no copy).</summary>
    internal abstract Span<byte> Bytes { get; }

    /// <summary>Copies the elements of <paramref name="source"/>, which has the same element type and size, into this tensor.</summary>
    internal void CopyFrom(HostTensor source) => source.Bytes.CopyTo(Bytes);

    /// <summary>Creates a zero-filled tensor of the given element type and shape.</summary>
    /// <exception cref="ArgumentException">The shape has more elements than a .NET array can hold.</exception>
    public static HostTensor Zeros(SafeTensorsDType dtype, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Size > Array.MaxLength)
            throw new ArgumentException($"HostTensor: shape {shape} has {shape.Size} elements, more than a .NET array holds ({Array.MaxLength}).", nameof(shape));
        int size = (int)shape.Size;
        return dtype switch
        {
            SafeTensorsDType.U8 => new HostTensor<byte>(shape, new byte[size]),
            SafeTensorsDType.I32 => new HostTensor<int>(shape, new int[size]),
            SafeTensorsDType.I64 => new HostTensor<long>(shape, new long[size]),
            SafeTensorsDType.F32 => new HostTensor<float>(shape, new float[size]),
            SafeTensorsDType.F64 => new HostTensor<double>(shape, new double[size]),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "HostTensor: unknown element type."),
        };
    }

    /// <summary>The size in bytes of one element of <paramref name="dtype"/>.</summary>
    public static int ItemSize(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.U8 => 1,
        SafeTensorsDType.I32 or SafeTensorsDType.F32 => 4,
        SafeTensorsDType.I64 or SafeTensorsDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "HostTensor: unknown element type."),
    };

    /// <inheritdoc/>
    public override string ToString() => $"{DType} {Shape}";
}

/// <summary>A host tensor whose elements are of type <typeparamref name="T"/> (<see cref="byte"/>, <see cref="int"/>,
/// <see cref="long"/>, <see cref="float"/> or <see cref="double"/>), held in an array it does not copy.</summary>
public sealed class HostTensor<T> : HostTensor where T : unmanaged
{
    /// <summary>Wraps <paramref name="data"/> (not copied) as a tensor of shape <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The data length is not the shape's size.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not one of the supported element types.</exception>
    public HostTensor(Shape shape, T[] data) : base(shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        DType = DTypeOf();
        if (data.Length != shape.Size)
            throw new ArgumentException($"HostTensor: data holds {data.Length} elements but shape {shape} needs {shape.Size}.", nameof(data));
        Data = data;
    }

    /// <summary>Creates a zero-filled tensor of shape <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The shape has more elements than a .NET array can hold.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is not one of the supported element types.</exception>
    public HostTensor(Shape shape) : this(shape, new T[CheckedLength(shape)])
    {
    }

    /// <summary>The elements in row-major order (the array given to the constructor).</summary>
    public T[] Data { get; }

    /// <inheritdoc/>
    public override SafeTensorsDType DType { get; }

    internal override Span<byte> Bytes => MemoryMarshal.AsBytes(Data.AsSpan());

    private static int CheckedLength(Shape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Size > Array.MaxLength)
            throw new ArgumentException($"HostTensor: shape {shape} has {shape.Size} elements, more than a .NET array holds ({Array.MaxLength}).", nameof(shape));
        return (int)shape.Size;
    }

    // typeof(T) comparisons fold to a constant per instantiation, and no reflection is involved (trim-safe).
    private static SafeTensorsDType DTypeOf() =>
        typeof(T) == typeof(byte) ? SafeTensorsDType.U8
        : typeof(T) == typeof(int) ? SafeTensorsDType.I32
        : typeof(T) == typeof(long) ? SafeTensorsDType.I64
        : typeof(T) == typeof(float) ? SafeTensorsDType.F32
        : typeof(T) == typeof(double) ? SafeTensorsDType.F64
        : throw new NotSupportedException($"HostTensor: element type {typeof(T).Name} is not supported; use byte, int, long, float or double.");
}
