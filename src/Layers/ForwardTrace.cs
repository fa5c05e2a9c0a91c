using GpuDeconv.Kernels;

namespace GpuDeconv.Layers;

/// <summary>One op of a recorded forward pass: the shape it read and the tensor it produced.</summary>
/// <param name="InputShape">The shape of the op's input (what the reverse step must produce).</param>
/// <param name="Output">The op's output (borrowed from the forward pass).</param>
public abstract record TraceStep(Shape InputShape, Tensor Output);

/// <summary>A recorded <see cref="Functional.Conv2d"/>: the filter [KH, KW, in, out], the bias [out] if any, and the window options the transposed convolution reuses.</summary>
/// <param name="InputShape">The convolution's input shape (the conv2d_transpose output shape).</param>
/// <param name="Output">The convolution's output, bias included.</param>
/// <param name="Filter">The HWIO filter (borrowed: usually the model's parameter).</param>
/// <param name="Bias">The per-channel bias added by the convolution, or null.</param>
/// <param name="Options">Stride, padding and dilation.</param>
public sealed record ConvStep(Shape InputShape, Tensor Output, Tensor Filter, Tensor? Bias, Conv2dOptions Options)
    : TraceStep(InputShape, Output);

/// <summary>A recorded <see cref="Functional.Relu"/>: its forward input f decides how Gradient and GuidedBackprop cross it.</summary>
/// <param name="Input">The pre-ReLU activations f (borrowed; read only by the Gradient and GuidedBackprop variants).</param>
/// <param name="Output">The post-ReLU activations.</param>
public sealed record ReluStep(Tensor Input, Tensor Output) : TraceStep(Input.Shape, Output);

/// <summary>A recorded <see cref="Functional.MaxPoolWithArgmax"/>: the switches and the pre-pool shape the unpooling restores.</summary>
/// <param name="InputShape">The pre-pool shape.</param>
/// <param name="Output">The pooled values.</param>
/// <param name="Argmax">The int64 switches (borrowed).</param>
/// <param name="Options">Window, stride and padding.</param>
/// <param name="IncludeBatchInIndex">Whether the switches hold the batch term.</param>
public sealed record PoolStep(Shape InputShape, Tensor Output, Tensor Argmax, PoolOptions Options, bool IncludeBatchInIndex)
    : TraceStep(InputShape, Output);

/// <summary>
/// Records a forward pass through a chain of conv / ReLU / argmax-pool ops so that <see cref="Deconvnet.Project(ForwardTrace, int, DeconvnetVariant, ProjectionSelection?)"/>
/// can walk it back down to pixels. Each method runs the <see cref="Functional"/> op of the same name (so autograd records it
/// when it is on, and nothing needs it to be) and appends one <see cref="TraceStep"/>.
/// </summary>
/// <remarks>
/// <para>The trace borrows: it keeps references to the tensors of the forward pass (filters, biases, switches, pre-ReLU
/// inputs, outputs) and allocates nothing. Those tensors must stay alive until the last projection, e.g. by creating
/// the forward pass and the projections in one <see cref="TensorScope"/>; a projection that meets a disposed one throws
/// <see cref="ObjectDisposedException"/> naming it. Only shapes are kept of conv and pool inputs, so a caller that
/// disposes eagerly needs to keep just: the filters and biases, the switches, the pre-ReLU inputs (Gradient and
/// GuidedBackprop only) and the output of the layer it projects.</para>
/// <para>A layer is a convolution and the ReLU and pooling ops recorded after it, up to the next convolution; projecting
/// layer k starts from the output of its last op (the pooled map, as the tutorial does). The ops must form a chain:
/// each op's input is the previous op's output, so nothing the reverse pass would have to undo happens unrecorded.</para>
/// </remarks>
/// <example><code>
/// var trace = new ForwardTrace();
/// var h = trace.Relu(trace.Conv2d(x, w1, bias: b1));
/// (h, _) = trace.MaxPoolWithArgmax(h, 2, 2);
/// h = trace.Relu(trace.Conv2d(h, w2, bias: b2));
/// (h, _) = trace.MaxPoolWithArgmax(h, 2, 2);
/// var pixels = Deconvnet.Project(trace, layer: 1, DeconvnetVariant.Tutorial);   // [N, H, W, C_in]
/// </code></example>
public sealed class ForwardTrace
{
    private readonly List<TraceStep> _steps = [];
    private readonly List<int> _layerStarts = [];

    /// <summary>The recorded ops in forward order.</summary>
    public IReadOnlyList<TraceStep> Steps => _steps;

    /// <summary>The number of layers (recorded convolutions).</summary>
    public int LayerCount => _layerStarts.Count;

    /// <summary>tf.nn.conv2d through <see cref="Functional.Conv2d"/>, recorded with its filter, bias and options; starts a new layer.</summary>
    /// <exception cref="ArgumentException">The input is not the previous op's output, or the shapes do not fit (see <see cref="Functional.Conv2d"/>).</exception>
    public Tensor Conv2d(Tensor input, Tensor filter, Size2d? stride = null, Padding padding = Padding.Same, Size2d? dilation = null, Tensor? bias = null)
    {
        RequireChain("Conv2d", input);
        var output = Functional.Conv2d(input, filter, stride, padding, dilation, bias);
        _layerStarts.Add(_steps.Count);
        _steps.Add(new ConvStep(input.Shape, output, filter, bias, new Conv2dOptions(stride ?? 1, padding, dilation ?? 1)));
        return output;
    }

    /// <summary>
    /// relu(conv2d + bias) through <see cref="Functional.Conv2dRelu"/>, recorded as a convolution followed by a ReLU
    /// (starts a new layer). The ReLU's recorded input is its output: the pre-activation is not kept, and the output is
    /// positive exactly where it was, which is all the Gradient and GuidedBackprop rules read.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not the previous op's output, or the shapes do not fit (see <see cref="Functional.Conv2d"/>).</exception>
    public Tensor Conv2dRelu(Tensor input, Tensor filter, Size2d? stride = null, Padding padding = Padding.Same, Size2d? dilation = null, Tensor? bias = null)
    {
        RequireChain("Conv2dRelu", input);
        var output = Functional.Conv2dRelu(input, filter, stride, padding, dilation, bias);
        _layerStarts.Add(_steps.Count);
        _steps.Add(new ConvStep(input.Shape, output, filter, bias, new Conv2dOptions(stride ?? 1, padding, dilation ?? 1)));
        _steps.Add(new ReluStep(output, output));
        return output;
    }

    /// <summary>
    /// relu(conv2d + bias) then tf.nn.max_pool_with_argmax through <see cref="Functional.Conv2dReluMaxPool"/>, recorded
    /// as <see cref="Conv2dRelu"/> followed by <see cref="MaxPoolWithArgmax"/> (a whole layer). Unlike the untraced op
    /// it keeps the pre-pool activations, which the trace records as the convolution's and the ReLU's output.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not the previous op's output, or the shapes do not fit (see <see cref="Functional.Conv2dReluMaxPool"/>).</exception>
    public (Tensor Values, Tensor Argmax) Conv2dReluMaxPool(Tensor input, Tensor filter, Tensor? bias, Conv2dOptions convolution, PoolOptions pool, bool includeBatchInIndex = false)
    {
        RequireChain("Conv2dReluMaxPool", input);
        var (values, argmax, activations) = Functional.ConvolveReluPool(input, filter, bias, convolution, pool, includeBatchInIndex, keepActivations: true);
        _layerStarts.Add(_steps.Count);
        _steps.Add(new ConvStep(input.Shape, activations!, filter, bias, convolution));
        _steps.Add(new ReluStep(activations!, activations!));
        _steps.Add(new PoolStep(activations!.Shape, values, argmax, pool, includeBatchInIndex));
        return (values, argmax);
    }

    /// <summary>tf.nn.relu through <see cref="Functional.Relu"/>, recorded with its input (the f of the Gradient and GuidedBackprop rules).</summary>
    /// <exception cref="ArgumentException">The input is not the previous op's output, or it is not float.</exception>
    public Tensor Relu(Tensor input, ReluBackwardRule backwardRule = ReluBackwardRule.Gradient)
    {
        RequireChain("Relu", input);
        var output = Functional.Relu(input, backwardRule);
        _steps.Add(new ReluStep(input, output));
        return output;
    }

    /// <summary>tf.nn.max_pool_with_argmax through <see cref="Functional.MaxPoolWithArgmax"/>, recorded with its switches and the pre-pool shape.</summary>
    /// <exception cref="ArgumentException">The input is not the previous op's output, or the window does not fit it.</exception>
    public (Tensor Values, Tensor Argmax) MaxPoolWithArgmax(Tensor input, Size2d size, Size2d stride, Padding padding = Padding.Same, bool includeBatchInIndex = false)
    {
        RequireChain("MaxPoolWithArgmax", input);
        var (values, argmax) = Functional.MaxPoolWithArgmax(input, size, stride, padding, includeBatchInIndex);
        _steps.Add(new PoolStep(input.Shape, values, argmax, new PoolOptions(size, stride, padding), includeBatchInIndex));
        return (values, argmax);
    }

    /// <summary>The index in <see cref="Steps"/> of the last op of <paramref name="layer"/> (its output is what a projection of the layer starts from).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The layer is not in [0, <see cref="LayerCount"/>).</exception>
    public int LayerEnd(int layer)
    {
        if ((uint)layer >= (uint)_layerStarts.Count)
            throw new ArgumentOutOfRangeException(nameof(layer), layer,
                $"ForwardTrace: layer {layer} does not exist; the trace holds {_layerStarts.Count} layer(s) (one per recorded Conv2d), numbered from 0.");
        return layer + 1 < _layerStarts.Count ? _layerStarts[layer + 1] - 1 : _steps.Count - 1;
    }

    /// <summary>The output of the last op of <paramref name="layer"/>: the activations a projection of that layer starts from.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The layer is not in [0, <see cref="LayerCount"/>).</exception>
    public Tensor LayerOutput(int layer) => _steps[LayerEnd(layer)].Output;

    /// <summary>Forgets every recorded op (the tensors are not touched: the trace never owned them).</summary>
    public void Clear()
    {
        _steps.Clear();
        _layerStarts.Clear();
    }

    private void RequireChain(string op, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (_steps.Count == 0) return;
        var previous = _steps[^1];
        if (!ReferenceEquals(previous.Output, input))
            throw new ArgumentException(
                $"ForwardTrace.{op}: input Tensor{input.Describe()} is not the output of the previous recorded op ({StepName(previous)} -> {previous.Output.Shape}); "
                + "a trace records a chain of conv / ReLU / argmax-pool ops, so record every op in between (a bias goes to Conv2d's bias) or start a new trace.",
                nameof(input));
    }

    internal static string StepName(TraceStep step) => step switch
    {
        ConvStep => "Conv2d",
        ReluStep => "Relu",
        PoolStep => "MaxPoolWithArgmax",
        _ => step.GetType().Name,
    };
}
