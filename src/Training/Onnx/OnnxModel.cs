using GpuDeconv.Compute;
using GpuDeconv.Layers;
using GpuDeconv.Training.Onnx.Proto;

namespace GpuDeconv.Training;

/// <summary>One convolution of an imported model: a deconvnet layer (<see cref="ForwardTrace"/> numbers them in this order).</summary>
/// <param name="Index">The layer index a <see cref="Deconvnet"/> projection takes.</param>
/// <param name="Node">The ONNX node name of the convolution.</param>
/// <param name="Output">The ONNX value the layer ends with (after a folded BatchNormalization, a ReLU, a residual join...).</param>
/// <param name="Channels">Feature maps of the layer's output.</param>
public sealed record OnnxLayer(int Index, string Node, string Output, int Channels);

/// <summary>
/// A convolutional network imported from an ONNX file and run on the project's kernels: Conv (pads, strides,
/// dilations), BatchNormalization (folded into the convolution before it), Relu, MaxPool (with argmax switches when
/// traced), AveragePool, GlobalAveragePool, Add/Sum (residual joins), Sub/Add of a constant, Pad, Flatten, Gemm, Split
/// and Concat over channels, Identity and Dropout (inference). Weights are converted once at load from NCHW/OIHW to
/// NHWC/HWIO; <see cref="Forward"/> takes and returns NHWC. An operator or attribute outside this set is refused at load
/// with a <see cref="NotSupportedException"/> naming the node, operator and attribute (docs/reference/onnx-import.md).
/// </summary>
/// <example><code>
/// using var resnet = OnnxModel.Load(accelerator, "ResNet18.onnx");
/// using var scope = new TensorScope();
/// var trace = new ForwardTrace();
/// var features = resnet.Forward(image, trace);                   // [1, 1, 1, 512]
/// var pixels = Deconvnet.Project(trace, resnet.Layers[^1].Index, DeconvnetVariant.ZeilerFergus,
///                                ProjectionSelection.StrongestActivation(7));
/// </code></example>
public sealed class OnnxModel : IDisposable
{
    private readonly List<OnnxOp> _ops;
    private readonly Dictionary<string, int> _lastUse = new(StringComparer.Ordinal);
    private bool _disposed;

    private OnnxModel(Accelerator accelerator, OnnxGraph graph, List<OnnxOp> ops)
    {
        Accelerator = accelerator;
        Source = graph.Source;
        Producer = graph.Producer;
        InputName = graph.InputName;
        var dims = graph.InputDims;
        InputShape = new Shape(dims[0], dims[2], dims[3], dims[1]);
        OutputName = graph.OutputNames[0];
        _ops = ops;
        for (int i = 0; i < ops.Count; i++)
            foreach (var input in ops[i].Inputs)
                _lastUse[input] = i;
        // The graph's outputs are read after the last node: never freed on the way (an Identity output aliases its input).
        foreach (var output in graph.OutputNames) _lastUse[output] = int.MaxValue;
        var layers = new List<OnnxLayer>();
        for (int i = 0; i < ops.Count; i++)
        {
            if (ops[i] is not ConvOp conv) continue;
            int next = ops.FindIndex(i + 1, o => o.IsLayer);
            int end = next < 0 ? ops.Count : next;
            // A Pad node that feeds the next convolution belongs to that layer, as ForwardTrace counts it.
            if (next > i + 1 && ops[next - 1] is PadOp pad && ops[next].Inputs[0] == pad.Outputs[0]) end--;
            layers.Add(new OnnxLayer(layers.Count, conv.Name, ops[end - 1].Outputs[0], LastChannels(ops, i, end)));
        }
        Layers = layers;
    }

    /// <summary>The accelerator the weights live on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>The file (or the name given for a stream) the model was read from.</summary>
    public string Source { get; }

    /// <summary>The producer recorded in the file (e.g. "CNTK 2.6", "pytorch 2.1").</summary>
    public string Producer { get; }

    /// <summary>The graph input's name.</summary>
    public string InputName { get; }

    /// <summary>The declared input shape in NHWC order; 0 where the file leaves a dimension open (usually the batch).</summary>
    public Shape InputShape { get; }

    /// <summary>The graph output <see cref="Forward"/> returns (the first, when the file declares several).</summary>
    public string OutputName { get; }

    /// <summary>The convolutions in order: the layers a <see cref="Deconvnet"/> projection of a traced forward pass names.</summary>
    public IReadOnlyList<OnnxLayer> Layers { get; }

    /// <summary>Reads an ONNX file and puts its weights on <paramref name="accelerator"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid ONNX model (the message says what is wrong).</exception>
    /// <exception cref="NotSupportedException">The model uses an operator, attribute or data type the importer does not run (named in the message).</exception>
    public static OnnxModel Load(Accelerator accelerator, string path)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        return Build(accelerator, OnnxGraph.Read(path));
    }

    /// <summary>Reads an ONNX model from <paramref name="stream"/>; <paramref name="name"/> names it in messages.</summary>
    /// <exception cref="InvalidDataException">The data is not a valid ONNX model.</exception>
    /// <exception cref="NotSupportedException">The model uses an operator, attribute or data type the importer does not run.</exception>
    public static OnnxModel Load(Accelerator accelerator, Stream stream, string name = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        return Build(accelerator, OnnxGraph.Read(stream, name));
    }

    /// <summary>
    /// Runs the network on <paramref name="input"/> [N, H, W, C] and returns the graph output in NHWC order (a 2-D output
    /// stays [N, features]). With a <paramref name="trace"/>, convolutions, ReLUs, pads, pools (max pools with argmax
    /// switches) and residual joins are recorded for <see cref="Deconvnet"/>, and every intermediate stays alive in the
    /// caller's <see cref="TensorScope"/> (the trace borrows them), as it does when the input requires a gradient (for
    /// autograd); otherwise intermediates are freed as soon as the last node that reads them has run.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not rank 4 or its channels or size differ from the declared input's.</exception>
    /// <exception cref="InvalidOperationException">A node meets a shape it cannot run (the message names the node).</exception>
    /// <exception cref="NotSupportedException">With a trace: the graph reaches an op the trace cannot record (e.g. a constant added after the first recorded op; named).</exception>
    public Tensor Forward(Tensor input, ForwardTrace? trace = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(input);
        var s = input.Shape;
        bool fits = s.Rank == 4 && (InputShape[1] == 0 || s[1] == InputShape[1]) && (InputShape[2] == 0 || s[2] == InputShape[2]) && s[3] == InputShape[3];
        if (!fits)
            throw new ArgumentException($"OnnxModel {Source}: input is {s}; the model takes NHWC {FormatInput()} (its ONNX input '{InputName}' is NCHW).", nameof(input));
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [InputName] = input };
        var owned = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var flattened = new Dictionary<string, (int H, int W, int C)>(StringComparer.Ordinal);
        // A trace borrows the intermediates, and so does autograd's graph when the input needs a gradient.
        bool eager = trace is null && !(input.RequiresGrad && Autograd.IsRecording);
        try
        {
            for (int i = 0; i < _ops.Count; i++)
            {
                var op = _ops[i];
                var arguments = op.Inputs.Select(name => values[name]).ToArray();
                if (op is FlattenOp && arguments[0].Shape is { Rank: 4 } spatial) flattened[op.Outputs[0]] = (spatial[1], spatial[2], spatial[3]);
                if (op is IdentityOp && flattened.TryGetValue(op.Inputs[0], out var carried)) flattened[op.Outputs[0]] = carried;
                if (op is GemmOp gemm) gemm.SpatialSource = flattened.GetValueOrDefault(op.Inputs[0], (1, 1, 0));
                Tensor[] results;
                try
                {
                    results = op.Run(arguments, trace);
                }
                catch (ArgumentException e) when (trace is not null && e.Message.StartsWith("ForwardTrace.", StringComparison.Ordinal))
                {
                    throw new NotSupportedException($"OnnxModel {Source}: node '{op.Name}' ({op.OpType}) cannot be recorded for the deconvnet: {e.Message}", e);
                }
                for (int k = 0; k < results.Length; k++)
                {
                    values[op.Outputs[k]] = results[k];
                    if (!ReferenceEquals(results[k], input)) owned.Add(results[k]);
                }
                if (eager) FreeSpent(i, values, owned);
            }
            var output = values[OutputName];
            owned.Remove(output);
            return ReferenceEquals(output, input) ? input.Clone() : output;
        }
        finally
        {
            // Freed eagerly, nothing but the output survives; otherwise the caller's scope owns the intermediates.
            if (eager)
                foreach (var tensor in owned) tensor.Dispose();
        }
    }

    /// <summary>Frees the weights.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var op in _ops) op.Dispose();
    }

    private void FreeSpent(int index, Dictionary<string, Tensor> values, HashSet<Tensor> owned)
    {
        foreach (var name in _ops[index].Inputs.Distinct())
        {
            if (_lastUse[name] != index || name == OutputName || !values.TryGetValue(name, out var tensor)) continue;
            // An alias (Identity, Flatten's reshape) may still be read under another name.
            if (values.Any(pair => pair.Key != name && ReferenceEquals(pair.Value, tensor) && _lastUse.GetValueOrDefault(pair.Key, -1) > index)) continue;
            values.Remove(name);
            if (owned.Remove(tensor)) tensor.Dispose();
        }
    }

    private string FormatInput() =>
        $"[{(InputShape[0] == 0 ? "N" : InputShape[0])}, {(InputShape[1] == 0 ? "H" : InputShape[1])}, {(InputShape[2] == 0 ? "W" : InputShape[2])}, {InputShape[3]}]";

    private static int LastChannels(List<OnnxOp> ops, int from, int to)
    {
        int channels = 0;
        for (int i = from; i < to; i++)
            if (ops[i] is ConvOp conv) channels = conv.Filter.Shape[3];
        return channels;
    }

    private static OnnxModel Build(Accelerator accelerator, OnnxGraph graph)
    {
        var ops = new List<OnnxOp>();
        try
        {
            OnnxBuilder.Build(accelerator, graph, ops);
            return new OnnxModel(accelerator, graph, ops);
        }
        catch
        {
            foreach (var op in ops) op.Dispose();
            throw;
        }
    }
}
