using GpuDeconv.Compute;

namespace GpuDeconv.Kernels.Tests;

/// <summary>The device tensors of one test: uploads and allocations on one accelerator, all freed together on dispose.</summary>
public sealed class TensorScope(Accelerator accelerator) : IDisposable
{
    private readonly List<IDisposable> _buffers = [];

    /// <summary>The accelerator the tensors live on.</summary>
    public Accelerator Accelerator { get; } = accelerator;

    /// <summary>The accelerator's default stream.</summary>
    public AcceleratorStream Stream => Accelerator.DefaultStream;

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
        return view;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var buffer in _buffers) buffer.Dispose();
        _buffers.Clear();
    }
}
