using System.Runtime.CompilerServices;
using IL = ILGPU.Runtime;

namespace GpuDeconv.Compute.Ilgpu;

/// <summary>
/// Zero-copy interop between research code's ILGPU memory and GpuDeconv's: borrow an ILGPU buffer or view as a
/// GpuDeconv buffer (which a tensor can then sit on), and hand GpuDeconv memory (a tensor's storage) to ILGPU kernels.
/// </summary>
/// <remarks>
/// Ownership. <see cref="Borrow{T}(IlgpuAccelerator, IL.MemoryBuffer1D{T, ILGPU.Stride1D.Dense})"/> never takes the ILGPU
/// buffer over: disposing the GpuDeconv buffer (or a tensor on it) leaves it alive, and the caller disposes it after
/// everything that borrows it. Using a borrowed buffer after its ILGPU owner disposed it is an
/// <see cref="ObjectDisposedException"/>, not a read of freed memory. <see cref="AsIlgpuView{T}(ArrayView{T})"/> returns a view that
/// is valid only while the GpuDeconv memory behind it lives (for a tensor: until the tensor is disposed).
/// Ordering. An <see cref="IlgpuAccelerator"/>'s default stream is ILGPU's default stream, so work launched there
/// by either side runs in launch order; on other streams, synchronize before crossing over.
/// </remarks>
public static class IlgpuInterop
{
    /// <summary>A GpuDeconv buffer over all of <paramref name="buffer"/>'s elements, without a copy; the caller keeps owning <paramref name="buffer"/>.</summary>
    /// <exception cref="ArgumentException">The buffer belongs to another ILGPU accelerator than <paramref name="accelerator"/>'s.</exception>
    /// <exception cref="ObjectDisposedException">The buffer or the accelerator has been disposed.</exception>
    public static MemoryBuffer1D<T, Stride1D.Dense> Borrow<T>(this IlgpuAccelerator accelerator, IL.MemoryBuffer1D<T, ILGPU.Stride1D.Dense> buffer)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.IsDisposed)
            throw new ObjectDisposedException(nameof(buffer), $"The ILGPU buffer of {buffer.Length} {typeof(T).Name} elements has been disposed; GpuDeconv cannot borrow it.");
        return Borrow(accelerator, buffer.View.BaseView, buffer);
    }

    /// <summary>A GpuDeconv buffer over the elements of <paramref name="view"/>, without a copy; the view's buffer must outlive it.</summary>
    /// <exception cref="ArgumentException">The view is empty or invalid, or its memory belongs to another accelerator.</exception>
    public static MemoryBuffer1D<T, Stride1D.Dense> Borrow<T>(this IlgpuAccelerator accelerator, ILGPU.ArrayView<T> view)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (!view.IsValid || view.Length == 0)
            throw new ArgumentException($"Cannot borrow an empty or invalid ILGPU ArrayView<{typeof(T).Name}> (length {view.Length}).", nameof(view));
        return Borrow(accelerator, view, ((ILGPU.IArrayView)view).Buffer);
    }

    /// <inheritdoc cref="Borrow{T}(IlgpuAccelerator, ILGPU.ArrayView{T})"/>
    public static MemoryBuffer1D<T, Stride1D.Dense> Borrow<T>(this IlgpuAccelerator accelerator, IL.ArrayView1D<T, ILGPU.Stride1D.Dense> view)
        where T : unmanaged => Borrow(accelerator, view.BaseView);

    private static MemoryBuffer1D<T, Stride1D.Dense> Borrow<T>(IlgpuAccelerator accelerator, ILGPU.ArrayView<T> view, IL.MemoryBuffer? owner)
        where T : unmanaged
    {
        accelerator.EnsureAlive();
        var source = owner?.Accelerator;
        if (source is not null && !ReferenceEquals(source, accelerator.Native))
            throw new ArgumentException(
                $"The ILGPU buffer lives on '{source.Name}' ({source.AcceleratorType}), not on '{accelerator.Native.Name}' behind the GpuDeconv accelerator " +
                $"'{accelerator.Name}' ({accelerator.Kind}); wrap that ILGPU accelerator with IlgpuBackend.Wrap, or copy the data.", nameof(view));
        var memory = new IlgpuMemory(accelerator, view.Cast<byte>(), owner);
        return new MemoryBuffer1D<T, Stride1D.Dense>(memory, view.Length);
    }

    /// <summary>
    /// The ILGPU view of the same memory as <paramref name="view"/> (for example <c>tensor.View.Data</c>), for research
    /// code's own ILGPU kernels; valid while that memory lives.
    /// </summary>
    /// <exception cref="ArgumentException">The view is not memory of an <see cref="IlgpuAccelerator"/> (it is host memory, or another backend's).</exception>
    /// <exception cref="ObjectDisposedException">The memory, or the ILGPU buffer it borrows, has been disposed.</exception>
    public static ILGPU.ArrayView<T> AsIlgpuView<T>(this ArrayView<T> view) where T : unmanaged
    {
        if (view.Length == 0) return default;
        if (view.Memory is not IlgpuMemory memory)
            throw new ArgumentException(
                $"An ArrayView<{typeof(T).Name}> of {view.Length} elements on {(view.Memory is null ? "host memory" : $"'{view.Memory.Accelerator.Name}' ({view.Memory.Accelerator.AcceleratorType})")} " +
                "is not memory of an ILGPU accelerator; create the tensor on an ilgpu-* accelerator to share it with ILGPU kernels.", nameof(view));
        int size = Unsafe.SizeOf<T>();
        return memory.Bytes(view.Index * size, view.Length * size).Cast<T>();
    }

    /// <summary>
    /// The ILGPU stream beneath <paramref name="stream"/> (for example <c>accelerator.DefaultStream</c>): research code's
    /// own kernels launched on it run in order with the library's work on that stream, with no synchronisation between.
    /// </summary>
    /// <exception cref="ArgumentException">The stream belongs to another backend's accelerator.</exception>
    public static IL.AcceleratorStream AsIlgpuStream(this AcceleratorStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return stream is IlgpuStream ilgpu
            ? ilgpu.Native
            : throw new ArgumentException(
                $"A stream of '{stream.Accelerator.Name}' ({stream.Accelerator.AcceleratorType}) is not an ILGPU stream; use a stream of an ilgpu-* accelerator.", nameof(stream));
    }

    /// <summary>The ILGPU view of a whole GpuDeconv buffer; see <see cref="AsIlgpuView{T}(ArrayView{T})"/>.</summary>
    public static ILGPU.ArrayView<T> AsIlgpuView<T>(this MemoryBuffer1D<T, Stride1D.Dense> buffer) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return buffer.View.BaseView.AsIlgpuView();
    }
}
