namespace GpuDeconv.Layers;

/// <summary>The window of a 2-D pooling op: its size and stride per axis (height, width) and TF's SAME/VALID padding.</summary>
public readonly record struct PoolOptions(Size2d Size, Size2d Stride, Padding Padding)
{
    /// <inheritdoc/>
    public override string ToString() => $"window {Size}, stride {Stride}, {(Padding == Padding.Same ? "SAME" : "VALID")}";
}
