using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using Conv2d = GpuDeconv.Layers.Conv2d;

namespace GpuDeconv.Training;

/// <summary>
/// The deconv tutorial's global-average-pooling network (seed 001): conv 5x5 C->64 SAME + ReLU, argmax max-pool 2x2
/// SAME, conv 5x5 64->64 SAME + ReLU, argmax max-pool 2x2 SAME, conv 5x5 64->classes SAME + ReLU, then an average
/// over the whole remaining map (6x6 for 24x24 input, 7x7 for 28x28) as logits. Weights truncated-normal stddev 0.01,
/// biases 0.01, as the tutorial's <c>weight_variable</c> / <c>bias_variable</c>.
/// </summary>
/// <remarks>
/// The tutorial applies softmax to the pooled map and takes the cross entropy; <see cref="Functional.SoftmaxCrossEntropy"/>
/// on <see cref="Forward"/>'s logits is the same loss. Layers 0 and 1 of the <see cref="ForwardTrace"/> that
/// <see cref="Logits"/> fills are the two conv + ReLU + pool blocks the tutorial projects back to pixels.
/// </remarks>
public sealed class CifarGapNet : Module
{
    /// <summary>Feature maps of the first two convolutions (the tutorial's 64).</summary>
    public const int Features = 64;

    /// <summary>The filter size of every convolution.</summary>
    public const int KernelSize = 5;

    /// <summary>Creates the network for [height, width, channels] images and <paramref name="classes"/> classes; layer i is seeded with seed + i.</summary>
    /// <exception cref="ArgumentException">A size or the class count is not positive.</exception>
    public CifarGapNet(Accelerator accelerator, int height, int width, int channels, int classes = 10, ulong seed = 1)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        if (height <= 0 || width <= 0 || channels <= 0 || classes <= 0)
            throw new ArgumentException($"CifarGapNet: input [{height}, {width}, {channels}] and {classes} classes must all be positive.", nameof(height));
        InputShape = new Shape(height, width, channels);
        // Two SAME 2x2 stride-2 pools: each gives ceil(n / 2).
        PooledHeight = (height + 3) / 4;
        PooledWidth = (width + 3) / 4;
        Conv1 = Register("conv1", new Conv2d(accelerator, channels, Features, KernelSize, seed, padding: Padding.Same, stddev: 0.01f, biasValue: 0.01f));
        Conv2 = Register("conv2", new Conv2d(accelerator, Features, Features, KernelSize, seed + 1, padding: Padding.Same, stddev: 0.01f, biasValue: 0.01f));
        Conv3 = Register("conv3", new Conv2d(accelerator, Features, classes, KernelSize, seed + 2, padding: Padding.Same, stddev: 0.01f, biasValue: 0.01f));
    }

    /// <summary>The image shape [H, W, C] the network was built for.</summary>
    public Shape InputShape { get; }

    /// <summary>The height of the map the average pool covers (ceil(H / 4)).</summary>
    public int PooledHeight { get; }

    /// <summary>The width of the map the average pool covers (ceil(W / 4)).</summary>
    public int PooledWidth { get; }

    /// <summary>The number of classes (the last convolution's output channels).</summary>
    public int Classes => Conv3.OutChannels;

    /// <summary>conv 5x5 C->64.</summary>
    public Conv2d Conv1 { get; }

    /// <summary>conv 5x5 64->64.</summary>
    public Conv2d Conv2 { get; }

    /// <summary>conv 5x5 64->classes.</summary>
    public Conv2d Conv3 { get; }

    /// <summary>The logits [N, classes] of images [N, H, W, C].</summary>
    /// <exception cref="ArgumentException">The images are not [N, H, W, C] of <see cref="InputShape"/>.</exception>
    public override Tensor Forward(Tensor input) => Run(input, trace: null);

    /// <summary>The logits [N, classes]; <paramref name="trace"/> records layers 0 and 1 (conv + ReLU + argmax pool) for <see cref="Deconvnet.Project(ForwardTrace, int, DeconvnetVariant, ProjectionSelection?)"/>, by reference.</summary>
    /// <exception cref="ArgumentException">The images are not [N, H, W, C] of <see cref="InputShape"/>.</exception>
    public Tensor Logits(Tensor images, ForwardTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return Run(images, trace);
    }

    private Tensor Run(Tensor images, ForwardTrace? trace)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Shape.Rank != 4 || images.Shape[1] != InputShape[0] || images.Shape[2] != InputShape[1] || images.Shape[3] != InputShape[2])
            throw new ArgumentException($"CifarGapNet: images {images.Shape} must be [N, {InputShape[0]}, {InputShape[1]}, {InputShape[2]}] (NHWC), the shape the network was built for.", nameof(images));
        // relu(conv + bias) and the argmax max-pool 2x2 SAME as one op: without a trace each block's pre-pool activations,
        // its largest tensor, are freed as soon as they are pooled rather than kept through the training step.
        var pool = new PoolOptions(2, 2, Padding.Same);
        // Without a trace, the blocks' outputs are the graph's alone (freed as Backward passes them); a trace keeps them.
        using var intermediates = trace is null ? TensorScope.ForIntermediates() : null;
        var (h, _) = Conv1.ForwardReluMaxPool(images, pool, trace);                            // [N, H/2, W/2, 64]
        (h, _) = Conv2.ForwardReluMaxPool(h, pool, trace);                                     // [N, H/4, W/4, 64]
        h = Conv3.ForwardRelu(h);                                                              // [N, H/4, W/4, classes]
        // The tutorial's avg_pool_6x6 (ksize = stride = 6, SAME) on a 6x6 map is the mean over the whole map.
        var pooled = Functional.AvgPool(h, size: (PooledHeight, PooledWidth), stride: (PooledHeight, PooledWidth), padding: Padding.Valid);
        var logits = pooled.Reshape([pooled.Shape[0], Classes]);
        return intermediates is null ? logits : intermediates.Keep(logits);
    }
}
