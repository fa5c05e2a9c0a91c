using GpuDeconv.Kernels;

namespace GpuDeconv.Layers;

/// <summary>How a projection walks back through each layer (docs/reference/op-semantics.md section 4).</summary>
public enum DeconvnetVariant
{
    /// <summary>The deconv tutorial's: unpool with the switches, subtract the conv bias from every cell (zero-filled ones become -b), conv2d_transpose; no ReLU.</summary>
    Tutorial,

    /// <summary>Zeiler and Fergus's deconvnet: unpool, ReLU (the signal is rectified: R * [R &gt; 0]), conv2d_transpose; no bias.</summary>
    ZeilerFergus,

    /// <summary>Guided backpropagation (Springenberg et al.): a ReLU with forward input f passes R * [R &gt; 0] * [f &gt; 0]; no bias.</summary>
    GuidedBackprop,

    /// <summary>The plain gradient (saliency, Simonyan et al.): a ReLU passes R * [f &gt; 0]; no bias. Equals autograd's input gradient for the same seed.</summary>
    Gradient,
}

/// <summary>Which activations of the projected layer start the reverse pass.</summary>
public enum SelectionKind
{
    /// <summary>Every feature map at once (the tutorial).</summary>
    AllMaps,

    /// <summary>One feature map; all others zeroed.</summary>
    FeatureMap,

    /// <summary>Per image, only the strongest activation of one feature map (its first maximum); everything else zeroed, as Zeiler and Fergus did.</summary>
    StrongestActivation,
}

/// <summary>Which activations of the projected layer start the reverse pass: all maps, one map, or one map's strongest activation.</summary>
public sealed record ProjectionSelection
{
    private ProjectionSelection(SelectionKind kind, int channel)
    {
        Kind = kind;
        Channel = channel;
    }

    /// <summary>What is kept.</summary>
    public SelectionKind Kind { get; }

    /// <summary>The feature map (channel) kept; -1 for <see cref="SelectionKind.AllMaps"/>.</summary>
    public int Channel { get; }

    /// <summary>Every feature map at once.</summary>
    public static ProjectionSelection AllMaps { get; } = new(SelectionKind.AllMaps, -1);

    /// <summary>Feature map <paramref name="channel"/>, all others zeroed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The channel is negative.</exception>
    public static ProjectionSelection FeatureMap(int channel) => new(SelectionKind.FeatureMap, RequireChannel(channel));

    /// <summary>Per image, only the largest activation of feature map <paramref name="channel"/> (the first in row-major order on ties).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The channel is negative.</exception>
    public static ProjectionSelection StrongestActivation(int channel) => new(SelectionKind.StrongestActivation, RequireChannel(channel));

    private static int RequireChannel(int channel) => channel >= 0
        ? channel
        : throw new ArgumentOutOfRangeException(nameof(channel), channel, "ProjectionSelection: the feature map index must be >= 0.");

    /// <inheritdoc/>
    public override string ToString() => Kind == SelectionKind.AllMaps ? "all maps" : $"{Kind} {Channel}";
}

/// <summary>
/// Projects a layer's activations back to input space through a <see cref="ForwardTrace"/> (Zeiler and Fergus's deconvnet,
/// the tutorial's variant, guided backpropagation and the plain gradient), on the kernels of the tensors' accelerator.
/// </summary>
/// <remarks>
/// Going down from the projected layer's last op, each recorded op is undone in turn: a pool by unpooling with its
/// switches to the pre-pool shape; a ReLU by the variant's rule (Tutorial: nothing; ZeilerFergus: ReLU of the signal;
/// GuidedBackprop and Gradient: the masks of docs/reference/op-semantics.md section 4 with the recorded pre-ReLU input); a convolution
/// by conv2d_transpose with the same filter, stride, padding and dilation, after subtracting its bias (Tutorial only).
/// All variants share the switches and the transposed filters. Projections record no autograd graph and allocate only
/// their temporaries, which are released before they return.
/// </remarks>
public static class Deconvnet
{
    /// <summary>
    /// The projection of <paramref name="layer"/>'s output (its pooled map when it ends with a pool) to input space,
    /// [N, H, W, C_in] of the trace's input shape, starting from the activations <paramref name="selection"/> keeps (all maps by default).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The layer is not in the trace, or the selection's channel is not one of the layer's.</exception>
    /// <exception cref="ObjectDisposedException">A tensor the projection needs (see <see cref="ForwardTrace"/>) was disposed.</exception>
    public static Tensor Project(ForwardTrace trace, int layer, DeconvnetVariant variant, ProjectionSelection? selection = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var activations = trace.LayerOutput(layer);
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var seed = Select(activations, selection ?? ProjectionSelection.AllMaps);
        return scope.Keep(Run(trace, trace.LayerEnd(layer), variant, seed));
    }

    /// <summary>
    /// Walks <paramref name="seed"/>, a signal of the shape of <paramref name="layer"/>'s output (any values: e.g. a gradient,
    /// or activations selected by hand), down to input space with <paramref name="variant"/>'s rules.
    /// </summary>
    /// <exception cref="ArgumentException">The seed's shape, type or accelerator differs from the layer output's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The layer is not in the trace.</exception>
    public static Tensor Project(ForwardTrace trace, int layer, DeconvnetVariant variant, Tensor seed)
    {
        ArgumentNullException.ThrowIfNull(trace);
        ArgumentNullException.ThrowIfNull(seed);
        var activations = trace.LayerOutput(layer);
        Functional.RequireFloat("Deconvnet.Project", (nameof(seed), seed));
        Functional.RequireSameAccelerator("Deconvnet.Project", ("layer output", activations), (nameof(seed), seed));
        if (seed.Shape != activations.Shape)
            throw new ArgumentException($"Deconvnet.Project: seed is {seed.Shape} but layer {layer}'s output is {activations.Shape}; the seed must have the layer output's shape.", nameof(seed));
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        return scope.Keep(Run(trace, trace.LayerEnd(layer), variant, seed));
    }

    /// <summary>
    /// The activations <paramref name="selection"/> keeps of <paramref name="activations"/> [N, H, W, C], everything else zero:
    /// the seed a projection starts from. For <see cref="SelectionKind.AllMaps"/> a copy of the input.
    /// </summary>
    /// <exception cref="ArgumentException">The activations are not a rank-4 float tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The selection's channel is not below C.</exception>
    public static Tensor Select(Tensor activations, ProjectionSelection selection)
    {
        const string op = "Deconvnet.Select";
        ArgumentNullException.ThrowIfNull(selection);
        Functional.RequireFloat(op, (nameof(activations), activations));
        var shape = activations.Shape;
        if (shape.Rank != 4)
            throw new ArgumentException($"{op}: activations are {shape}; expected rank 4 [N, H, W, C].", nameof(activations));
        if (selection.Kind != SelectionKind.AllMaps && selection.Channel >= shape[3])
            throw new ArgumentOutOfRangeException(nameof(selection), selection.Channel,
                $"{op}: feature map {selection.Channel} does not exist; the activations {shape} have {shape[3]} maps (channels 0..{shape[3] - 1}).");

        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var selected = selection.Kind switch
        {
            SelectionKind.AllMaps => activations.Clone(),
            SelectionKind.FeatureMap => KeepChannel(activations, selection.Channel),
            _ => Strongest(activations, selection.Channel),
        };
        return scope.Keep(selected);
    }

    /// <summary>
    /// The saliency map of a Gradient (or GuidedBackprop) projection: max over channels of |p|, [N, H, W, 1] (Simonyan et al.).
    /// </summary>
    /// <exception cref="ArgumentException">The projection is not a rank-4 float tensor.</exception>
    public static Tensor Saliency(Tensor projection)
    {
        const string op = "Deconvnet.Saliency";
        Functional.RequireFloat(op, (nameof(projection), projection));
        if (projection.Shape.Rank != 4)
            throw new ArgumentException($"{op}: projection is {projection.Shape}; expected rank 4 [N, H, W, C].", nameof(projection));
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        // |p| = relu(p) + relu(-p): one of the two terms is zero, so the sum is exact.
        var magnitude = Functional.Add(Functional.Relu(projection), Functional.Relu(Functional.Scale(projection, -1f)));
        var saliency = Tensor.Empty(projection.Accelerator, Reductions.OutputShape(projection.Shape, [3], keepDims: true));
        Reductions.Max(saliency.Stream, magnitude.View, [3], saliency.View);
        return scope.Keep(saliency);
    }

    /// <summary>
    /// The tutorial's summary image: images [N, H, W_i, C] side by side along the width (tf.concat axis 2), e.g.
    /// [input | layer-1 projection | layer-2 projection]. Scale it to bytes as tf.summary.image does with the
    /// TensorBoard writer's <c>ByteImage.FromFloats</c> (GpuDeconv.Training).
    /// </summary>
    /// <exception cref="ArgumentException">No images, or they differ in rank, batch, height or channels.</exception>
    public static Tensor Stitch(params IReadOnlyList<Tensor> images)
    {
        const string op = "Deconvnet.Stitch";
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException($"{op}: needs at least one image.", nameof(images));
        for (int i = 0; i < images.Count; i++)
        {
            Functional.RequireFloat(op, ($"images[{i}]", images[i]));
            var (first, shape) = (images[0].Shape, images[i].Shape);
            if (shape.Rank != 4 || first.Rank != 4 || shape[0] != first[0] || shape[1] != first[1] || shape[3] != first[3])
                throw new ArgumentException(
                    $"{op}: images[0] is {first} but images[{i}] is {shape}; images stitched along the width must be [N, H, W, C] with the same N, H and C.",
                    nameof(images));
        }
        using var noGrad = Autograd.NoGrad();
        return Functional.Concat(images, axis: 2);
    }

    // Walks the signal down from step `end` to the trace's input. Each step passes the signal on its output to its
    // inputs; signals that meet at a forked tensor (a residual branch and its shortcut) are summed. Steps whose output
    // received no signal (branches that do not lead to the projected layer) are skipped. Every intermediate is disposed
    // as soon as it has been passed on; the seed is the caller's and is never disposed here.
    private static Tensor Run(ForwardTrace trace, int end, DeconvnetVariant variant, Tensor seed)
    {
        if (variant is not (DeconvnetVariant.Tutorial or DeconvnetVariant.ZeilerFergus or DeconvnetVariant.GuidedBackprop or DeconvnetVariant.Gradient))
            throw new ArgumentOutOfRangeException(nameof(variant), variant, "Deconvnet.Project: unknown variant.");
        var signals = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance) { [trace.Steps[end].Output] = seed };
        try
        {
            for (int i = end; i >= 0; i--)
            {
                var step = trace.Steps[i];
                if (!signals.Remove(step.Output, out var signal)) continue;
                var inputs = trace.InputsOf(i);
                if (step is AddStep)
                {
                    // A join passes its signal unchanged down both branches.
                    for (int k = 0; k < inputs.Count; k++)
                        Accumulate(signals, inputs[k], k == 0 ? signal : signal.Clone(), seed);
                    continue;
                }
                var next = Reverse(step, variant, signal, i);
                if (!ReferenceEquals(next, signal) && !ReferenceEquals(signal, seed)) signal.Dispose();
                Accumulate(signals, inputs[0], next, seed);
            }
            var input = trace.Input!;
            if (!signals.Remove(input, out var result))
                throw new InvalidOperationException($"Deconvnet.Project: no signal reached the trace's input from step {end}.");
            return ReferenceEquals(result, seed) ? seed.Clone() : result;
        }
        finally
        {
            foreach (var left in signals.Values)
                if (!ReferenceEquals(left, seed)) left.Dispose();
        }
    }

    private static void Accumulate(Dictionary<Tensor, Tensor> signals, Tensor target, Tensor signal, Tensor seed)
    {
        if (!signals.TryGetValue(target, out var existing))
        {
            signals[target] = signal;
            return;
        }
        signals[target] = Functional.Add(existing, signal);
        if (!ReferenceEquals(existing, seed)) existing.Dispose();
        if (!ReferenceEquals(signal, seed)) signal.Dispose();
    }

    private static Tensor Reverse(TraceStep step, DeconvnetVariant variant, Tensor signal, int index)
    {
        switch (step)
        {
            case PoolStep pool:
                Need(pool.Argmax, "switches", index, pool);
                // Non-overlapping windows give unique switches: one store pass, no host synchronisation.
                var indices = pool.Options.Stride.Height >= pool.Options.Size.Height && pool.Options.Stride.Width >= pool.Options.Size.Width
                    ? UnpoolIndices.TrustedUnique
                    : UnpoolIndices.Validate;
                return Functional.Unpool(signal, pool.Argmax, pool.InputShape, pool.IncludeBatchInIndex, indices);

            case ReluStep relu:
                var rule = variant switch
                {
                    DeconvnetVariant.Tutorial => (ReluBackwardRule?)null,
                    DeconvnetVariant.ZeilerFergus => ReluBackwardRule.Deconvnet,
                    DeconvnetVariant.GuidedBackprop => ReluBackwardRule.Guided,
                    _ => ReluBackwardRule.Gradient,
                };
                if (rule is null) return signal;
                if (rule == ReluBackwardRule.Deconvnet) return Functional.Relu(signal);   // R * [R > 0] does not read f
                Need(relu.Input, "pre-ReLU input", index, relu);
                var crossed = Tensor.Empty(signal.Accelerator, signal.Shape);
                Activations.ReluBackward(signal.Stream, signal.View, relu.Input.View, crossed.View, rule.Value);
                return crossed;

            case PadStep pad:
                return Functional.Crop2d(signal, pad.Top, pad.Bottom, pad.Left, pad.Right);

            case AvgPoolStep avg:
                // Each output cell's signal spread evenly over the cells it averaged: the average's gradient, the only
                // linear reverse of an average, shared by every variant.
                var spread = Tensor.Empty(signal.Accelerator, avg.InputShape);
                Kernels.AvgPool.Backward(signal.Stream, signal.View, spread.View, avg.Options);
                return spread;

            case ConvStep conv:
                Need(conv.Filter, "filter", index, conv);
                Tensor? debiased = null;
                if (variant == DeconvnetVariant.Tutorial && conv.Bias is not null)
                {
                    Need(conv.Bias, "bias", index, conv);
                    // Every cell, the zero-filled ones included (they become -b), as the tutorial's `t_conv - b` does.
                    debiased = Functional.BiasSubtract(signal, conv.Bias);
                }
                var back = Functional.Conv2dTranspose(debiased ?? signal, conv.Filter, conv.InputShape,
                    conv.Options.Stride, conv.Options.Padding, conv.Options.Dilation);
                debiased?.Dispose();
                return back;

            default:
                throw new InvalidOperationException($"Deconvnet.Project: step {index} ({step.GetType().Name}) has no reverse.");
        }
    }

    private static void Need(Tensor tensor, string what, int index, TraceStep step)
    {
        if (tensor.IsDisposed)
            throw new ObjectDisposedException($"Tensor{tensor.Describe()}",
                $"Deconvnet.Project: the {what} of step {index} ({ForwardTrace.StepName(step)} -> {step.Output.Shape}) was disposed; "
                + "the trace borrows the forward pass's tensors, so keep them alive (e.g. in the same TensorScope) until the projection is done.");
    }

    // Keeps channel c with a 1x1 convolution by the one-hot matrix e_c e_c^T: each output is x*1 plus zeros, so it is exact.
    private static Tensor KeepChannel(Tensor x, int channel)
    {
        int c = x.Shape[3];
        var oneHot = new float[c * c];
        oneHot[channel * c + channel] = 1f;
        var filter = Tensor.FromArray(x.Accelerator, oneHot, [1, 1, c, c]);
        return Functional.Conv2d(x, filter, stride: 1, padding: Padding.Valid);
    }

    // Per image, the first maximum of map c: a max pool whose one window is the whole map gives each map's maximum
    // and its switch; keeping channel c and unpooling puts that single value back in place, zeros elsewhere.
    private static Tensor Strongest(Tensor x, int channel)
    {
        var whole = new Size2d(x.Shape[1], x.Shape[2]);
        var (maxima, switches) = Functional.MaxPoolWithArgmax(x, whole, whole, Padding.Valid);
        var kept = KeepChannel(maxima, channel);
        return Functional.Unpool(kept, switches, x.Shape, indices: UnpoolIndices.TrustedUnique);
    }
}
