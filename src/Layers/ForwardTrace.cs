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

/// <summary>A recorded <see cref="Functional.Add"/> of two tensors of one shape: a residual join; the reverse pass sends the signal down both branches.</summary>
/// <param name="InputShape">The shape of both summands (and of the output).</param>
/// <param name="Output">The sum.</param>
public sealed record AddStep(Shape InputShape, Tensor Output) : TraceStep(InputShape, Output);

/// <summary>A recorded <see cref="Functional.Pad2d"/>: the reverse pass crops the same rows and columns.</summary>
/// <param name="InputShape">The unpadded shape.</param>
/// <param name="Output">The padded tensor.</param>
/// <param name="Top">Rows added above.</param>
/// <param name="Bottom">Rows added below.</param>
/// <param name="Left">Columns added on the left.</param>
/// <param name="Right">Columns added on the right.</param>
public sealed record PadStep(Shape InputShape, Tensor Output, int Top, int Bottom, int Left, int Right) : TraceStep(InputShape, Output);

/// <summary>A recorded <see cref="Functional.AvgPool"/>: the reverse pass spreads each cell's signal evenly over its window (the average's gradient).</summary>
/// <param name="InputShape">The pre-pool shape.</param>
/// <param name="Output">The averages.</param>
/// <param name="Options">Window, stride and padding.</param>
public sealed record AvgPoolStep(Shape InputShape, Tensor Output, PoolOptions Options) : TraceStep(InputShape, Output);

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
/// <para>A layer is a convolution (with the explicit pad recorded just before it, if any) and the ops recorded after it,
/// up to the next layer; projecting layer k starts
/// from the output of its last op (the pooled map, as the tutorial does). The ops form a graph: each op reads the
/// trace's input (the first op's input) or the output of an op recorded before it, so nothing the reverse pass would
/// have to undo happens unrecorded. A chain is the usual case; residual networks fork a tensor into two branches and
/// join them with <see cref="Add"/>, and the reverse pass sums the signals that reach a forked tensor.</para>
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
    private readonly List<Tensor[]> _inputs = [];
    private readonly List<int> _layerStarts = [];
    private Tensor? _input;

    /// <summary>The recorded ops in forward order.</summary>
    public IReadOnlyList<TraceStep> Steps => _steps;

    /// <summary>The trace's input: what the first recorded op read (null before anything is recorded).</summary>
    public Tensor? Input => _input;

    /// <summary>The tensors step <paramref name="step"/> read: the trace's input or earlier steps' outputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The step is not in <see cref="Steps"/>.</exception>
    public IReadOnlyList<Tensor> InputsOf(int step) => (uint)step < (uint)_inputs.Count
        ? _inputs[step]
        : throw new ArgumentOutOfRangeException(nameof(step), step, $"ForwardTrace: step {step} does not exist; the trace holds {_steps.Count} step(s).");

    /// <summary>The number of layers (recorded convolutions).</summary>
    public int LayerCount => _layerStarts.Count;

    /// <summary>tf.nn.conv2d through <see cref="Functional.Conv2d"/>, recorded with its filter, bias and options; starts a new layer.</summary>
    /// <exception cref="ArgumentException">The input is not the previous op's output, or the shapes do not fit (see <see cref="Functional.Conv2d"/>).</exception>
    public Tensor Conv2d(Tensor input, Tensor filter, Size2d? stride = null, Padding padding = Padding.Same, Size2d? dilation = null, Tensor? bias = null)
    {
        RequireRecorded("Conv2d", input);
        var output = Functional.Conv2d(input, filter, stride, padding, dilation, bias);
        _layerStarts.Add(LayerStart(input));
        Record(new ConvStep(input.Shape, output, filter, bias, new Conv2dOptions(stride ?? 1, padding, dilation ?? 1)), input);
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
        RequireRecorded("Conv2dRelu", input);
        var output = Functional.Conv2dRelu(input, filter, stride, padding, dilation, bias);
        _layerStarts.Add(LayerStart(input));
        Record(new ConvStep(input.Shape, output, filter, bias, new Conv2dOptions(stride ?? 1, padding, dilation ?? 1)), input);
        Record(new ReluStep(output, output), output);
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
        RequireRecorded("Conv2dReluMaxPool", input);
        var (values, argmax, activations) = Functional.ConvolveReluPool(input, filter, bias, convolution, pool, includeBatchInIndex, keepActivations: true);
        _layerStarts.Add(LayerStart(input));
        Record(new ConvStep(input.Shape, activations!, filter, bias, convolution), input);
        Record(new ReluStep(activations!, activations!), activations!);
        Record(new PoolStep(activations!.Shape, values, argmax, pool, includeBatchInIndex), activations!);
        return (values, argmax);
    }

    /// <summary>tf.nn.relu through <see cref="Functional.Relu"/>, recorded with its input (the f of the Gradient and GuidedBackprop rules).</summary>
    /// <exception cref="ArgumentException">The input is not the previous op's output, or it is not float.</exception>
    public Tensor Relu(Tensor input, ReluBackwardRule backwardRule = ReluBackwardRule.Gradient)
    {
        RequireRecorded("Relu", input);
        var output = Functional.Relu(input, backwardRule);
        Record(new ReluStep(input, output), input);
        return output;
    }

    /// <summary>tf.nn.max_pool_with_argmax through <see cref="Functional.MaxPoolWithArgmax"/>, recorded with its switches and the pre-pool shape.</summary>
    /// <exception cref="ArgumentException">The input is not the previous op's output, or the window does not fit it.</exception>
    public (Tensor Values, Tensor Argmax) MaxPoolWithArgmax(Tensor input, Size2d size, Size2d stride, Padding padding = Padding.Same, bool includeBatchInIndex = false)
    {
        RequireRecorded("MaxPoolWithArgmax", input);
        var (values, argmax) = Functional.MaxPoolWithArgmax(input, size, stride, padding, includeBatchInIndex);
        Record(new PoolStep(input.Shape, values, argmax, new PoolOptions(size, stride, padding), includeBatchInIndex), input);
        return (values, argmax);
    }

    /// <summary>a + b through <see cref="Functional.Add"/>, recorded as a join of two branches (a residual connection).</summary>
    /// <exception cref="ArgumentException">An input is neither the trace's input nor a recorded op's output, or the shapes differ.</exception>
    public Tensor Add(Tensor a, Tensor b)
    {
        RequireRecorded("Add", a, b);
        if (a.Shape != b.Shape)
            throw new ArgumentException($"ForwardTrace.Add: a is {a.Shape} but b is {b.Shape}; a recorded join adds two tensors of one shape.", nameof(b));
        var output = Functional.Add(a, b);
        Record(new AddStep(a.Shape, output), a, b);
        return output;
    }

    /// <summary>Explicit padding through <see cref="Functional.Pad2d"/> (zeros before a convolution, -infinity before a max pool), recorded so that the reverse pass crops it.</summary>
    /// <exception cref="ArgumentException">The input is neither the trace's input nor a recorded op's output, or a pad is negative.</exception>
    public Tensor Pad2d(Tensor input, int top, int bottom, int left, int right, float value = 0f)
    {
        RequireRecorded("Pad2d", input);
        var output = Functional.Pad2d(input, top, bottom, left, right, value);
        Record(new PadStep(input.Shape, output, top, bottom, left, right), input);
        return output;
    }

    /// <summary>tf.nn.avg_pool through <see cref="Functional.AvgPool"/>, recorded so that the reverse pass spreads the signal over each window.</summary>
    /// <exception cref="ArgumentException">The input is neither the trace's input nor a recorded op's output, or the window does not fit it.</exception>
    public Tensor AvgPool(Tensor input, Size2d size, Size2d stride, Padding padding = Padding.Same)
    {
        RequireRecorded("AvgPool", input);
        var output = Functional.AvgPool(input, size, stride, padding);
        Record(new AvgPoolStep(input.Shape, output, new PoolOptions(size, stride, padding)), input);
        return output;
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
        _inputs.Clear();
        _layerStarts.Clear();
        _input = null;
    }

    // A convolution's layer starts with the explicit pad just before it that made its input (an ONNX model's
    // asymmetric pads), so that the previous layer ends with its own output, not with this layer's padding.
    private int LayerStart(Tensor convolutionInput) =>
        _steps.Count > 0 && _steps[^1] is PadStep pad && ReferenceEquals(pad.Output, convolutionInput) ? _steps.Count - 1 : _steps.Count;

    private void Record(TraceStep step, params Tensor[] inputs)
    {
        _steps.Add(step);
        _inputs.Add(inputs);
    }

    // Every input must be the trace's input or a recorded op's output: then the reverse pass can reach the input
    // through recorded ops alone. The first op's input becomes the trace's input.
    private void RequireRecorded(string op, params Tensor[] inputs)
    {
        foreach (var input in inputs) ArgumentNullException.ThrowIfNull(input);
        if (_steps.Count == 0)
        {
            _input = inputs[0];
            if (inputs.Length == 1 || inputs.All(t => ReferenceEquals(t, _input))) return;
        }
        foreach (var input in inputs)
        {
            if (ReferenceEquals(input, _input) || _steps.Any(s => ReferenceEquals(s.Output, input))) continue;
            var previous = _steps.Count > 0 ? _steps[^1] : null;
            throw new ArgumentException(
                $"ForwardTrace.{op}: input Tensor{input.Describe()} is neither the trace's input nor the output of a recorded op"
                + (previous is null ? "" : $" (the last one is {StepName(previous)} -> {previous.Output.Shape})")
                + "; record every op in between (a bias goes to Conv2d's bias) or start a new trace.",
                nameof(inputs));
        }
    }

    internal static string StepName(TraceStep step) => step switch
    {
        ConvStep => "Conv2d",
        ReluStep => "Relu",
        PoolStep => "MaxPoolWithArgmax",
        AddStep => "Add",
        PadStep => "Pad2d",
        AvgPoolStep => "AvgPool",
        _ => step.GetType().Name,
    };
}
