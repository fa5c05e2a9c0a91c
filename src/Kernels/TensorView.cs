using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>A device view and the shape it holds, row-major: what every launch API of this project takes.</summary>
/// <remarks>The view may be empty only when the shape has no elements.</remarks>
public readonly record struct TensorView<T>(ArrayView<T> Data, Shape Shape) where T : unmanaged
{
    /// <summary>The accelerator that owns the memory, or null for an empty view.</summary>
    public Accelerator? Accelerator => Data.Memory?.Accelerator;

    /// <inheritdoc/>
    public override string ToString() => $"{typeof(T).Name}{Shape}";
}
