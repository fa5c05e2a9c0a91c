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

/// <summary>
/// The deconv tutorial's network as the trainer knows it (<c>--model cifar-gap</c>): CIFAR-10's preprocessing (or a
/// whole-image standardisation for other data), the tutorial's 1e-4 on CIFAR-10, and in TensorBoard the tutorial's
/// <c>source/cifar</c> projections during training and Zeiler and Fergus's top-9 grids after it.
/// </summary>
internal sealed class CifarGapModel : ITrainerModel
{
    /// <summary>Images logged under <c>source/cifar</c> (the tutorial's <c>tf.summary.image</c> default of 3).</summary>
    public const int SourceImages = 3;

    // A library's module initializer is how a model registers without a list of models anywhere else.
#pragma warning disable CA2255
    [System.Runtime.CompilerServices.ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => TrainerModels.Register(new CifarGapModel());

    public string Name => "cifar-gap";

    public string CheckpointName => "CifarGap";

    public string Description => "the deconv tutorial's CIFAR network (3 convolutions, argmax pooling, global average pool)";

    public bool TakesCifar10 => true;

    /// <summary>
    /// The tutorial's constant 1e-4 for one epoch on CIFAR-10. On other data 3e-3 for two epochs, with 300 warm-up
    /// steps and a cosine decay: at that rate the ReLU before the average pool lets a class's map die in the first
    /// hundred steps (its logit stays 0 and gets no gradient), and the warm-up keeps all ten alive; it trains past 85%
    /// on Fashion-MNIST in the default run (docs/results/2026-11-22-accuracy.md). The default run must fit 10 minutes
    /// on 2 CPU cores.
    /// </summary>
    public TrainingDefaults Defaults(string dataset) => dataset == "cifar10"
        ? new TrainingDefaults(1e-4f, LearningRateSchedule.Constant, 0, 1)
        : new TrainingDefaults(3e-3f, LearningRateSchedule.Cosine, 300, 2);

    /// <summary>CIFAR-10's shape gets TF's central crop and standardisation (or the distortions); other images are standardised whole, as the tutorial's pipeline standardises its crops.</summary>
    public (Preprocess Train, Preprocess Test) Inputs(Shape imageShape, bool distort)
    {
        ArgumentNullException.ThrowIfNull(imageShape);
        if (imageShape == Preprocess.CifarEval.Input)
            return (distort ? Preprocess.CifarTrain : Preprocess.CifarEval, Preprocess.CifarEval);
        return (Preprocess.Standardized(imageShape), Preprocess.Standardized(imageShape));
    }

    public Module Create(Accelerator accelerator, ModelSetup setup) =>
        new CifarGapNet(accelerator, setup.InputShape[0], setup.InputShape[1], setup.InputShape[2], setup.Classes, setup.Seed);

    public IEnumerable<string> Problems(TrainerOptions options)
    {
        if (options.Top9Maps is null)
            yield return "--top9-maps is missing (give none for no grids).";
        else if (options.Top9Maps.Where(m => m is < 0 or >= CifarGapNet.Features).Select(m => (int?)m).FirstOrDefault() is { } map)
            yield return $"--top9-maps {map} is out of range: layers 1 and 2 have {CifarGapNet.Features} feature maps (0..{CifarGapNet.Features - 1}).";
        else if (options.Top9Maps.Distinct().Count() != options.Top9Maps.Count)
            yield return $"--top9-maps {string.Join(",", options.Top9Maps)} lists a map twice.";
    }

    /// <summary>The tutorial's summary: [input | layer-1 projection | layer-2 projection] along the width, tag source/cifar (enlarged by <see cref="TrainerOptions.ImageScale"/>).</summary>
    public void LogImages(TrainingSummaries summaries, Module model, long step)
    {
        var cifar = (CifarGapNet)model;
        var images = summaries.FirstImages(SourceImages);
        var trace = new ForwardTrace();
        cifar.Logits(images, trace);
        var layer1 = Deconvnet.Project(trace, layer: 0, DeconvnetVariant.Tutorial);
        var layer2 = Deconvnet.Project(trace, layer: 1, DeconvnetVariant.Tutorial);
        var stitched = Deconvnet.Stitch(images, layer1, layer2);
        summaries.AddImages("source/cifar", stitched.ToArray(), stitched.Shape[1], stitched.Shape[2], stitched.Shape[3], step, SourceImages);
    }

    /// <summary>
    /// Zeiler and Fergus's top 9: for layers 1 and 2 and each of <see cref="TrainerOptions.Top9Maps"/>, the 9 of the first
    /// <see cref="TrainerOptions.Top9Images"/> test images whose pooled layer output has the largest maximum in that map
    /// (<see cref="TopActivations.Best"/>), each next to the Zeiler and Fergus projection of that map's strongest
    /// activation (<see cref="TopActivations.Grid"/>); logged as top9/layer&lt;L&gt;/map&lt;K&gt; and saved as
    /// top9-layer&lt;L&gt;-map&lt;K&gt;.png in the log directory.
    /// </summary>
    public void LogFinal(TrainingSummaries summaries, Module model, long step)
    {
        var maps = summaries.Options.Top9Maps;
        if (maps.Count == 0) return;
        var cifar = (CifarGapNet)model;
        const int layers = 2;
        int count = Math.Min(summaries.Options.Top9Images, summaries.Test.Count), batchSize = summaries.Options.EvalBatchSize;
        var output = summaries.TestInput.Output;
        using var noGrad = Autograd.NoGrad();

        // scores[layer][m][i]: the largest activation of map maps[m] in the layer's pooled output for test image i.
        var scores = new float[layers][][];
        for (int layer = 0; layer < layers; layer++)
        {
            scores[layer] = new float[maps.Count][];
            for (int m = 0; m < maps.Count; m++) scores[layer][m] = new float[count];
        }
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            using var scope = new TensorScope();
            var trace = new ForwardTrace();
            cifar.Logits(summaries.Images([.. Enumerable.Range(start, n)]), trace);
            for (int layer = 0; layer < layers; layer++)
            {
                // The maximum over the map's positions on the device: only [n, maps] values come back to the host.
                var activations = trace.LayerOutput(layer);
                var maxima = Tensor.Empty(summaries.Accelerator, Reductions.OutputShape(activations.Shape, [1, 2], keepDims: false));
                Reductions.Max(maxima.Stream, activations.View, [1, 2], maxima.View);
                float[] host = maxima.ToArray();
                int channels = activations.Shape[3];
                for (int m = 0; m < maps.Count; m++)
                    for (int i = 0; i < n; i++) scores[layer][m][start + i] = host[i * channels + maps[m]];
            }
        }

        for (int layer = 0; layer < layers; layer++)
        {
            for (int m = 0; m < maps.Count; m++)
            {
                int[] best = TopActivations.Best(scores[layer][m], TopActivations.Count);
                using var scope = new TensorScope();
                var chosen = summaries.Images(best);
                var trace = new ForwardTrace();
                cifar.Logits(chosen, trace);
                var projection = Deconvnet.Project(trace, layer, DeconvnetVariant.ZeilerFergus, ProjectionSelection.StrongestActivation(maps[m]));
                var grid = TopActivations.Grid(chosen.ToArray(), projection.ToArray(), best.Length, output[0], output[1], output[2]);
                summaries.AddImageAndSave(TrainingSummaries.Name($"top9/layer{layer + 1}/map{maps[m]}"), grid,
                    TrainingSummaries.Name($"top9-layer{layer + 1}-map{maps[m]}.png"), step);
            }
        }
    }
}
