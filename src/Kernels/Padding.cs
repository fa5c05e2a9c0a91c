namespace GpuDeconv.Layers;

/// <summary>TensorFlow's padding modes for windowed ops (convolution and pooling).</summary>
public enum Padding
{
    /// <summary>Output size ceil(n / s); zeros are added, the odd one after the data (bottom/right).</summary>
    Same,

    /// <summary>Output size ceil((n - k + 1) / s); no padding, windows lie wholly inside the input.</summary>
    Valid,
}
