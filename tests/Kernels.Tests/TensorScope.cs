using GpuDeconv.Compute;

namespace GpuDeconv.Kernels.Tests;

/// <summary>
/// The device tensors of one test: uploads and allocations on one accelerator, all freed together on dispose.
/// With <c>ownStream</c> the test gets a stream of its own, and with it its own scratch arena: ops that use
/// <see cref="Scratch"/> assume that one thread drives a stream, but xunit runs test classes in parallel and they
/// share the accelerators' default streams.
/// </summary>
public sealed class TensorScope(Accelerator accelerator, bool ownStream = false) : IDisposable
{
    private readonly List<IDisposable> _buffers = [];

    /// <summary>The accelerator the tensors live on.</summary>
    public Accelerator Accelerator { get; } = accelerator;

    /// <summary>The test's own stream, or the accelerator's default stream.</summary>
    public AcceleratorStream Stream { get; } = ownStream ? accelerator.CreateStream() : accelerator.DefaultStream;

    /// <summary>Waits for <see cref="Stream"/>, then copies the view to the host.</summary>
    public T[] Download<T>(TensorView<T> view) where T : unmanaged
    {
        Stream.Synchronize();
        return Host.Download(view);
    }

    /// <summary>Uploads <paramref name="data"/> as a tensor of <paramref name="shape"/>.</summary>
    public TensorView<T> Upload<T>(T[] data, params int[] shape) where T : unmanaged
    {
        var (buffer, view) = Host.Upload(Accelerator, data, new Shape(shape));
        _buffers.Add(buffer);
        return view;
    }

    /// <summary>A tensor of <paramref name="shape"/> filled with 0xFF bytes (NaN / -1), so unwritten elements show.</summary>
    public TensorView<T> Allocate<T>(params int[] shape) where T : unmanaged
    {
        var (buffer, view) = Host.Allocate<T>(Accelerator, new Shape(shape));
        _buffers.Add(buffer);
        // The fill is queued on the default stream; an own stream is not ordered after it.
        if (!ReferenceEquals(Stream, Accelerator.DefaultStream)) Accelerator.DefaultStream.Synchronize();
        return view;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!ReferenceEquals(Stream, Accelerator.DefaultStream))
        {
            Scratch.Release(Stream);
            Stream.Dispose();
        }
        foreach (var buffer in _buffers) buffer.Dispose();
        _buffers.Clear();
    }
}
