using GpuDeconv.Kernels;
using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>
/// One batch from a <see cref="BatchLoader"/>: <see cref="Count"/> preprocessed images, NHWC, with their labels and data-set
/// indices. Dispose it when done so the loader reuses its buffers; it must not be used after that.
/// </summary>
public sealed class Batch : IDisposable
{
    private readonly BatchLoader _owner;
    private readonly float[] _images;
    private readonly int[] _labels;
    private readonly int[] _indices;

    internal Batch(BatchLoader owner, int capacity, Shape imageShape)
    {
        _owner = owner;
        ImageShape = imageShape;
        ImageSize = (int)imageShape.Size;
        _images = new float[capacity * ImageSize];
        _labels = new int[capacity];
        _indices = new int[capacity];
    }

    /// <summary>The global step (from 0) this batch belongs to.</summary>
    public long Step { get; private set; }

    /// <summary>The epoch (from 0).</summary>
    public int Epoch { get; private set; }

    /// <summary>The position of the batch in its epoch (from 0).</summary>
    public int StepInEpoch { get; private set; }

    /// <summary>Rows in the batch: the batch size, or fewer for a kept partial batch.</summary>
    public int Count { get; private set; }

    /// <summary>The last rows that repeat examples already seen this epoch (only with <see cref="PartialBatch.PadWrap"/>; 0 otherwise).</summary>
    public int WrappedCount { get; private set; }

    /// <summary>One preprocessed image's shape, [H, W, C].</summary>
    public Shape ImageShape { get; }

    /// <summary>Floats per image.</summary>
    public int ImageSize { get; }

    /// <summary>The batch's shape, [Count, H, W, C].</summary>
    public Shape Shape => new(Count, ImageShape[0], ImageShape[1], ImageShape[2]);

    /// <summary>The images, NHWC: Count x H x W x C floats.</summary>
    public Memory<float> Images => _images.AsMemory(0, Count * ImageSize);

    /// <summary>The class label of each row.</summary>
    public Memory<int> Labels => _labels.AsMemory(0, Count);

    /// <summary>The data-set index of each row's image.</summary>
    public ReadOnlyMemory<int> Indices => _indices.AsMemory(0, Count);

    internal Span<float> ImageRow(int row) => _images.AsSpan(row * ImageSize, ImageSize);

    internal Span<int> LabelBuffer => _labels;

    internal Span<int> IndexBuffer => _indices;

    internal void Reset(long step, int epoch, int stepInEpoch, int count, int wrapped)
    {
        Step = step;
        Epoch = epoch;
        StepInEpoch = stepInEpoch;
        Count = count;
        WrappedCount = wrapped;
    }

    /// <summary>Hands the buffers back to the loader for a later batch.</summary>
    public void Dispose() => _owner.Return(this);
}
