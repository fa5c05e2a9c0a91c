namespace GpuDeconv.Layers;

/// <summary>A (height, width) pair for kernel sizes, strides and dilations; converts from one int (both) or an (int, int) tuple.</summary>
public readonly record struct Size2d(int Height, int Width)
{
    /// <summary>Both dimensions equal to <paramref name="value"/>.</summary>
    public static implicit operator Size2d(int value) => new(value, value);

    /// <summary>From a (height, width) tuple.</summary>
    public static implicit operator Size2d((int Height, int Width) pair) => new(pair.Height, pair.Width);

    /// <inheritdoc/>
    public override string ToString() => $"{Height}x{Width}";
}
