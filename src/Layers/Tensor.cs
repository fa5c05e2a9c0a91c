using GpuDeconv.Compute;
using GpuDeconv.Kernels;

namespace GpuDeconv.Layers;

/// <summary>The element type of a <see cref="Tensor"/>: float data, or integer indices (argmax switches, labels).</summary>
public enum DType
{
    /// <summary>32-bit float.</summary>
    Float32,

    /// <summary>32-bit integer (class labels).</summary>
    Int32,

    /// <summary>64-bit integer (argmax switches, as TF's Targmax).</summary>
    Int64,
}

/// <summary>
/// A dense row-major tensor in device memory on one accelerator, with reverse-mode autograd: an op's output keeps
/// its parents and a backward function, and <see cref="Backward"/> walks them in topological order. All work runs
/// on the accelerator's default stream and is queued asynchronously; only reading to the host waits.
/// </summary>
/// <remarks>
/// Memory comes from the accelerator's <see cref="DeviceAllocator"/>. Dispose tensors (or create them inside a
/// <see cref="TensorScope"/>) to hand their memory back for reuse; <see cref="Reshape"/> and <see cref="Detach"/>
/// share memory with their source, which stays alive until all sharers are disposed.
/// </remarks>
public sealed partial class Tensor : IDisposable
{
    private readonly Storage _storage;
    private bool _disposed;

    private Tensor(Accelerator accelerator, Shape shape, DType dtype, Storage storage)
    {
        Accelerator = accelerator;
        Shape = shape;
        DType = dtype;
        _storage = storage;
        TensorScope.Track(this);
    }

    /// <summary>The accelerator whose memory holds the tensor.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The dimensions (NHWC for images, HWIO for filters).</summary>
    public Shape Shape { get; }

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>An optional name, used in error messages and by modules (e.g. <c>conv1/weight</c>).</summary>
    public string? Name { get; set; }

    /// <summary>The number of elements.</summary>
    public long Size => Shape.Size;

    /// <summary>Whether gradients flow to this tensor: set on parameters, and on every op output that depends on one.</summary>
    public bool RequiresGrad { get; private set; }

    /// <summary>The accumulated gradient of a leaf that requires one (null until a backward pass reaches it); the leaf owns it: it outlives scopes and goes with <see cref="ZeroGrad"/> or <see cref="Dispose"/>.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>True for tensors made by an op that recorded a backward function; false for leaves (data, parameters).</summary>
    public bool HasGradFunction => _backward is not null;

    /// <summary>The stream all of this tensor's work runs on (the accelerator's default stream).</summary>
    public AcceleratorStream Stream => Accelerator.DefaultStream;

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The float data as a kernel view.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not <see cref="DType.Float32"/>.</exception>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    public TensorView<float> View => ViewOf<float>(DType.Float32);

    /// <summary>The 64-bit integer data as a kernel view (argmax switches).</summary>
    public TensorView<long> LongView => ViewOf<long>(DType.Int64);

    /// <summary>The 32-bit integer data as a kernel view (labels).</summary>
    public TensorView<int> IntView => ViewOf<int>(DType.Int32);

    private TensorView<T> ViewOf<T>(DType expected) where T : unmanaged
    {
        ThrowIfDisposed();
        if (DType != expected)
            throw new InvalidOperationException($"Tensor{Describe()} holds {DType}, not {expected}.");
        if (_storage.IsBorrowed && _storage.Bytes.Memory is { IsDisposed: true })
            throw new ObjectDisposedException($"Tensor{Describe()}",
                $"Tensor{Describe()} sits on a buffer of {_storage.Bytes.Memory.Accelerator.Name} that its owner has disposed; a borrowed buffer must outlive the tensors on it.");
        return new TensorView<T>(_storage.Bytes.Cast<T>().SubView(0, Size), Shape);
    }

    internal string Describe() => Name is null ? Shape.ToString() : $"{Shape} '{Name}'";

    /// <summary>Hands the tensor's memory (and its gradient's) back to the allocator once nothing else shares it; safe to call twice.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _parents = null;
        _backward = null;
        ZeroGrad();
        _storage.Release();
    }

    internal void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException($"Tensor{Describe()}", $"Tensor{Describe()} has been disposed (its memory may already hold another tensor).");
    }

    /// <summary>
    /// The bytes shared by a tensor and its reshapes/detached copies: an allocator block, returned with the last of
    /// them, or memory the tensor borrows (<see cref="FromBuffer(MemoryBuffer1D{float, Stride1D.Dense}, Shape, bool)"/>),
    /// which the tensor never frees.
    /// </summary>
    private sealed class Storage
    {
        private readonly Action? _release;
        private int _references = 1;

        public Storage(DeviceAllocator allocator, MemoryBuffer1D<long, Stride1D.Dense> block)
        {
            Bytes = block.View.BaseView.Cast<byte>();
            _release = () => allocator.Return(block);
        }

        public Storage(ArrayView<byte> borrowed) => Bytes = borrowed;

        public ArrayView<byte> Bytes { get; }

        public bool IsBorrowed => _release is null;

        public Storage Share()
        {
            Interlocked.Increment(ref _references);
            return this;
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) == 0) _release?.Invoke();
        }
    }

    private static int ElementSize(DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        _ => 8,
    };

    /// <summary>An uninitialised tensor (contents undefined) of the given shape and type.</summary>
    public static Tensor Empty(Accelerator accelerator, Shape shape, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(shape);
        var allocator = DeviceAllocator.For(accelerator);
        var block = allocator.Rent(shape.Size * ElementSize(dtype));
        return new Tensor(accelerator, shape, dtype, new Storage(allocator, block));
    }

    /// <summary>
    /// A tensor on <paramref name="buffer"/>'s memory, without a copy (for example an ILGPU buffer borrowed through
    /// <c>IlgpuInterop.Borrow</c>): writes through either are seen by the other. The tensor borrows the buffer: disposing
    /// the tensor leaves it alive, and the buffer must outlive the tensor and everything that shares its data.
    /// </summary>
    /// <exception cref="ArgumentException">The buffer's length is not the shape's size.</exception>
    /// <exception cref="ObjectDisposedException">The buffer has been disposed.</exception>
    public static Tensor FromBuffer(MemoryBuffer1D<float, Stride1D.Dense> buffer, Shape shape, bool requiresGrad = false)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return FromView(buffer.View.BaseView, shape, requiresGrad);
    }

    /// <inheritdoc cref="FromBuffer(MemoryBuffer1D{float, Stride1D.Dense}, Shape, bool)"/>
    public static Tensor FromBuffer(MemoryBuffer1D<int, Stride1D.Dense> buffer, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return Borrowing(buffer.View.BaseView, shape, DType.Int32, requiresGrad: false);
    }

    /// <summary>A tensor on the elements of <paramref name="view"/>, without a copy; the view's memory must outlive it (see <see cref="FromBuffer(MemoryBuffer1D{float, Stride1D.Dense}, Shape, bool)"/>).</summary>
    /// <exception cref="ArgumentException">The view is host memory or its length is not the shape's size.</exception>
    public static Tensor FromView(ArrayView<float> view, Shape shape, bool requiresGrad = false) =>
        Borrowing(view, shape, DType.Float32, requiresGrad);

    private static Tensor Borrowing<T>(ArrayView<T> view, Shape shape, DType dtype, bool requiresGrad) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(shape);
        var memory = view.Memory ?? throw new ArgumentException(
            $"A tensor can borrow only accelerator memory; this ArrayView<{typeof(T).Name}> of {view.Length} elements is host memory (shared or local).", nameof(view));
        if (memory.IsDisposed)
            throw new ObjectDisposedException(nameof(view), $"The buffer of {memory.LengthInBytes} bytes on {memory.Accelerator.Name} has been disposed; a tensor cannot borrow it.");
        if (view.Length != shape.Size)
            throw new ArgumentException(
                $"A tensor of shape {shape} needs {shape.Size} {typeof(T).Name} elements; the buffer on {memory.Accelerator.Name} has {view.Length}.", nameof(shape));
        var tensor = new Tensor(memory.Accelerator, shape, dtype, new Storage(view.Cast<byte>()));
        return requiresGrad ? tensor.RequireGrad() : tensor;
    }

    /// <summary>A tensor that holds <paramref name="data"/> in row-major order with the given shape.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException">The data length is not the shape's size.</exception>
    public static Tensor FromArray(Accelerator accelerator, float[] data, Shape shape, bool requiresGrad = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        return FromArray(accelerator, data.AsSpan(), shape, requiresGrad);
    }

    /// <summary>A tensor that holds a copy of <paramref name="data"/> (e.g. a batch buffer, reused as soon as this returns) in row-major order.</summary>
    /// <exception cref="ArgumentException">The data length is not the shape's size.</exception>
    public static Tensor FromArray(Accelerator accelerator, ReadOnlySpan<float> data, Shape shape, bool requiresGrad = false)
    {
        var tensor = FromHost(accelerator, data, shape, DType.Float32);
        tensor.RequiresGrad = requiresGrad;
        return tensor;
    }

    /// <summary>A 64-bit integer tensor (e.g. argmax switches) holding <paramref name="data"/>.</summary>
    public static Tensor FromArray(Accelerator accelerator, long[] data, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return FromHost(accelerator, data.AsSpan(), shape, DType.Int64);
    }

    /// <summary>A 32-bit integer tensor (e.g. labels) holding <paramref name="data"/>.</summary>
    public static Tensor FromArray(Accelerator accelerator, int[] data, Shape shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return FromArray(accelerator, data.AsSpan(), shape);
    }

    /// <summary>A 32-bit integer tensor holding a copy of <paramref name="data"/> (e.g. a batch's labels).</summary>
    public static Tensor FromArray(Accelerator accelerator, ReadOnlySpan<int> data, Shape shape) => FromHost(accelerator, data, shape, DType.Int32);

    // The copy is complete when this returns (the span is not kept), so the caller may reuse its buffer at once.
    private static Tensor FromHost<T>(Accelerator accelerator, ReadOnlySpan<T> data, Shape shape, DType dtype) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (data.Length != shape.Size)
            throw new ArgumentException($"Tensor.FromArray: {data.Length} values cannot fill shape {shape} ({shape.Size} elements).", nameof(data));
        var tensor = Empty(accelerator, shape, dtype);
        if (data.Length > 0) tensor.ViewOf<T>(dtype).Data.CopyFromCPU(tensor.Stream, data);
        return tensor;
    }

    /// <summary>A float tensor with every element equal to <paramref name="value"/>.</summary>
    public static Tensor Fill(Accelerator accelerator, Shape shape, float value, bool requiresGrad = false)
    {
        var tensor = Empty(accelerator, shape);
        Kernels.Fill.Forward(tensor.Stream, tensor.View, value);
        tensor.RequiresGrad = requiresGrad;
        return tensor;
    }

    /// <summary>A float tensor of zeros.</summary>
    public static Tensor Zeros(Accelerator accelerator, Shape shape, bool requiresGrad = false) => Fill(accelerator, shape, 0f, requiresGrad);

    /// <summary>A float tensor of ones.</summary>
    public static Tensor Ones(Accelerator accelerator, Shape shape, bool requiresGrad = false) => Fill(accelerator, shape, 1f, requiresGrad);

    /// <summary>tf.truncated_normal: normal(mean, stddev) samples redrawn beyond two standard deviations; the same numbers on every accelerator for a seed.</summary>
    public static Tensor TruncatedNormal(Accelerator accelerator, Shape shape, float stddev, ulong seed, float mean = 0f, bool requiresGrad = false)
    {
        var tensor = Empty(accelerator, shape);
        RandomNumbers.TruncatedNormal(tensor.Stream, tensor.View, seed, mean, stddev);
        tensor.RequiresGrad = requiresGrad;
        return tensor;
    }

    /// <summary>tf.random_uniform: uniform samples in [low, high); the same numbers on every accelerator for a seed.</summary>
    public static Tensor Uniform(Accelerator accelerator, Shape shape, float low, float high, ulong seed, bool requiresGrad = false)
    {
        var tensor = Empty(accelerator, shape);
        RandomNumbers.Uniform(tensor.Stream, tensor.View, seed, low, high);
        tensor.RequiresGrad = requiresGrad;
        return tensor;
    }

    /// <summary>Waits for queued work and copies the float data to the host.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds integers: use <see cref="ToArray{T}"/>.</exception>
    public float[] ToArray()
    {
        if (DType != DType.Float32)
            throw new InvalidOperationException($"Tensor{Describe()} holds {DType}: read it with ToArray<long>() or ToArray<int>().");
        return ToArray<float>();
    }

    /// <summary>Waits for queued work and copies the data to the host as <typeparamref name="T"/> (float, int or long; integers convert between int and long).</summary>
    /// <exception cref="InvalidOperationException">The conversion is not one of those, or an Int64 value does not fit an int.</exception>
    public T[] ToArray<T>() where T : unmanaged
    {
        ThrowIfDisposed();
        if (Size == 0) return [];
        if (typeof(T) == typeof(float) && DType == DType.Float32) return (T[])(object)View.Data.GetAsArray1D(Stream);
        if (typeof(T) == typeof(long) && DType == DType.Int64) return (T[])(object)LongView.Data.GetAsArray1D(Stream);
        if (typeof(T) == typeof(int) && DType == DType.Int32) return (T[])(object)IntView.Data.GetAsArray1D(Stream);
        if (typeof(T) == typeof(long) && DType == DType.Int32) return (T[])(object)Array.ConvertAll(IntView.Data.GetAsArray1D(Stream), v => (long)v);
        if (typeof(T) == typeof(int) && DType == DType.Int64)
            return (T[])(object)Array.ConvertAll(LongView.Data.GetAsArray1D(Stream), v => v is >= int.MinValue and <= int.MaxValue
                ? (int)v
                : throw new InvalidOperationException($"Tensor{Describe()}: the value {v} does not fit an int; read it with ToArray<long>()."));
        throw new InvalidOperationException($"Tensor{Describe()} holds {DType}; it cannot be read as {typeof(T).Name} (float tensors as float, integer tensors as int or long).");
    }

    /// <summary>The same data with another shape of the same size, without copying (tf.reshape); gradients flow back reshaped.</summary>
    /// <exception cref="ArgumentException">The sizes differ.</exception>
    public Tensor Reshape(Shape shape)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Size != Size)
            throw new ArgumentException($"Reshape: cannot view {Shape} ({Size} elements) as {shape} ({shape.Size} elements); the sizes must match.", nameof(shape));
        var result = new Tensor(Accelerator, shape, DType, _storage.Share());
        var source = Shape;
        return Autograd.Record(result, [this], grad => [grad.Reshape(source)]);
    }

    /// <summary>A tensor that shares this one's data but is cut from the autograd graph (tf.stop_gradient).</summary>
    public Tensor Detach()
    {
        ThrowIfDisposed();
        return new Tensor(Accelerator, Shape, DType, _storage.Share());
    }

    /// <summary>A copy on <paramref name="other"/> (through the host when the accelerators differ); gradients flow back to this tensor's accelerator.</summary>
    public Tensor To(Accelerator other)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(other);
        var copy = Empty(other, Shape, DType);
        if (Size > 0)
        {
            if (ReferenceEquals(other, Accelerator))
                CopyRaw(this, copy);
            else
                switch (DType)
                {
                    case DType.Float32: copy.View.Data.CopyFromCPU(copy.Stream, ToArray<float>()); break;
                    case DType.Int32: copy.IntView.Data.CopyFromCPU(copy.Stream, ToArray<int>()); break;
                    default: copy.LongView.Data.CopyFromCPU(copy.Stream, ToArray<long>()); break;
                }
        }
        var home = Accelerator;
        return Autograd.Record(copy, [this], grad => [grad.To(home)]);
    }

    /// <summary>A device-to-device copy of this tensor (same accelerator), recorded for autograd.</summary>
    public Tensor Clone()
    {
        ThrowIfDisposed();
        var copy = Empty(Accelerator, Shape, DType);
        if (Size > 0) CopyRaw(this, copy);
        return Autograd.Record(copy, [this], grad => [grad.Clone()]);
    }

    private static void CopyRaw(Tensor source, Tensor target)
    {
        long bytes = source.Size * ElementSize(source.DType);
        var from = source._storage.Bytes.SubView(0, bytes);
        var to = target._storage.Bytes.SubView(0, bytes);
        from.CopyTo(source.Stream, to);
    }

    /// <summary>Makes this leaf a parameter (or stops it being one): gradients accumulate into <see cref="Grad"/>.</summary>
    /// <exception cref="InvalidOperationException">The tensor is an op output (only leaves can be marked) or not float.</exception>
    public Tensor RequireGrad(bool requiresGrad = true)
    {
        if (_backward is not null)
            throw new InvalidOperationException($"Tensor{Describe()} is the output of an op; only leaves (data, parameters) can be marked as requiring a gradient.");
        if (requiresGrad && DType != DType.Float32)
            throw new InvalidOperationException($"Tensor{Describe()} holds {DType}; only float tensors have gradients.");
        RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>Drops the accumulated gradient (optimizers call this from ZeroGrad).</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    internal void MarkRecorded(Tensor[] parents, Func<Tensor, Tensor?[]> backward)
    {
        RequiresGrad = true;
        _parents = parents;
        _backward = backward;
    }
}
