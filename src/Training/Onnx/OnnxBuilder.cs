using GpuDeconv.Compute;
using GpuDeconv.Layers;
using GpuDeconv.Training.Onnx.Proto;

namespace GpuDeconv.Training;

/// <summary>Turns a checked <see cref="OnnxGraph"/> into executable ops: weights to NHWC/HWIO, BatchNormalization folded into the convolution before it.</summary>
internal static class OnnxBuilder
{
    // A BatchNormalization without a convolution to fold into runs as a C x C 1x1 convolution: bounded so that a small
    // file cannot ask for gigabytes.
    internal const int MaxUnfoldedChannels = 4096;

    public static void Build(Accelerator accelerator, OnnxGraph graph, List<OnnxOp> ops)
    {
        var readers = new Dictionary<string, List<NodeProto>>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (var input in node.Input)
                (readers.TryGetValue(input, out var list) ? list : readers[input] = []).Add(node);
        var folded = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        foreach (var node in graph.Nodes)
        {
            if (folded.Contains(node)) continue;
            string[] inputs = [.. node.Input.Where(i => i.Length > 0 && !graph.IsConstant(i))];
            string[] outputs = [.. node.Output.Where(o => o.Length > 0)];   // "" marks an optional output not asked for
            if (outputs.Length != 1 && node.OpType is not ("Split" or "Dropout"))
                throw graph.Unsupported(node, $"it has {outputs.Length} outputs; the importer runs {node.OpType} with one");
            switch (node.OpType)
            {
                case "Conv":
                    var batchNorm = readers.GetValueOrDefault(outputs[0]) is [{ OpType: "BatchNormalization" } bn] && bn.Input[0] == outputs[0]
                        && !graph.OutputNames.Contains(outputs[0]) ? bn : null;
                    if (batchNorm is not null)
                    {
                        folded.Add(batchNorm);
                        outputs = [batchNorm.Output[0]];
                        if (batchNorm.Output.Count > 1) throw graph.Unsupported(batchNorm, "it has training outputs (running mean and variance); the importer runs inference");
                    }
                    ops.Add(Conv(accelerator, graph, node, batchNorm, inputs, outputs));
                    break;
                case "BatchNormalization":
                    var (scale, shift) = BatchNorm(graph, node, channels: -1);
                    int c = scale.Length;
                    if (c > MaxUnfoldedChannels)
                        throw graph.Unsupported(node, $"a BatchNormalization of {c} channels that follows no convolution of its own is not supported (at most {MaxUnfoldedChannels}: it runs as a {c} x {c} 1x1 convolution)");
                    var diagonal = new float[c * c];
                    for (int i = 0; i < c; i++) diagonal[i * c + i] = (float)scale[i];
                    ops.Add(new AffineOp(node.Name, inputs, outputs, Tensor.FromArray(accelerator, diagonal, [1, 1, c, c]),
                        Tensor.FromArray(accelerator, shift.Select(v => (float)v).ToArray(), [c])));
                    break;
                case "Relu":
                    ops.Add(new ReluOp(node.Name, inputs, outputs));
                    break;
                case "MaxPool":
                    if (OnnxOps.Ints(node, "dilations") is { } d && d.Any(v => v != 1))
                        throw graph.Unsupported(node, $"attribute 'dilations' = [{string.Join(", ", d)}] is not supported for MaxPool (only 1)");
                    ops.Add(new MaxPoolOp(node.Name, inputs, outputs, OnnxWindow.Read(graph, node)));
                    break;
                case "AveragePool":
                    ops.Add(new AvgPoolOp(node.Name, node.OpType, inputs, outputs, OnnxWindow.Read(graph, node), OnnxOps.Int(node, "count_include_pad", 0) != 0));
                    break;
                case "GlobalAveragePool":
                    ops.Add(new AvgPoolOp(node.Name, node.OpType, inputs, outputs, null, countIncludePad: false));
                    break;
                case "Add" or "Sum" or "Sub":
                    ops.Add(Arithmetic(accelerator, graph, node, inputs, outputs));
                    break;
                case "Pad":
                    ops.Add(Pad(graph, node, inputs, outputs));
                    break;
                case "Flatten":
                    if (OnnxOps.Int(node, "axis", 1) != 1) throw graph.Unsupported(node, $"attribute 'axis' = {OnnxOps.Int(node, "axis", 1)} is not supported (only 1: [N, rest])");
                    ops.Add(new FlattenOp(node.Name, inputs, outputs));
                    break;
                case "Gemm":
                    ops.Add(Gemm(accelerator, graph, node, inputs, outputs));
                    break;
                case "Split" or "Concat":
                    if (OnnxOps.Int(node, "axis", node.OpType == "Split" ? 0 : -1) != 1)
                        throw graph.Unsupported(node, $"attribute 'axis' = {OnnxOps.Int(node, "axis", 0)} is not supported (only 1, the channels of NCHW)");
                    if (node.OpType == "Concat" && node.Input.Any(graph.IsConstant))
                        throw graph.Unsupported(node, "Concat of a constant is not supported (only graph tensors)");
                    long[] split = node.OpType == "Split"
                        ? OnnxOps.Ints(node, "split") ?? (node.Input.Count > 1 && node.Input[1].Length > 0 ? [.. graph.Constant(node, 1).Data.Select(v => (long)v)] : [])
                        : [];
                    if (split.Length > 0 && (split.Length != outputs.Length || split.Any(v => v < 1 || v > OnnxGraph.MaxTensorElements)))
                        throw graph.Unsupported(node, $"split sizes [{string.Join(", ", split)}] must be {outputs.Length} positive sizes, one per output");
                    int[] sizes = [.. split.Select(v => (int)v)];
                    ops.Add(new ChannelOp(node.Name, node.OpType, inputs, outputs, sizes));
                    break;
                case "Identity" or "Dropout":
                    if (outputs.Length > 1) throw graph.Unsupported(node, "its mask output is not supported (inference has no mask)");
                    ops.Add(new IdentityOp(node.Name, node.OpType, inputs, outputs));
                    break;
                default:
                    throw graph.Unsupported(node, $"operator {node.OpType} is not supported");
            }
            if (ops[^1].Inputs.Length == 0) throw graph.Unsupported(node, "it reads only constants; the importer runs nodes that read the graph's tensors");
        }
    }

    private static ConvOp Conv(Accelerator accelerator, OnnxGraph graph, NodeProto node, NodeProto? batchNorm, string[] inputs, string[] outputs)
    {
        var (dims, w) = graph.Constant(node, 1);
        if (dims.Length != 4) throw graph.Unsupported(node, $"its weight is {Shape.Format(dims)}; a 2-D convolution's weight is [out, in, kh, kw]");
        long group = OnnxOps.Int(node, "group", 1);
        if (group != 1) throw graph.Unsupported(node, $"attribute 'group' = {group} is not supported (only 1: grouped and depthwise convolutions are not implemented)");
        int o = dims[0], i = dims[1], kh = dims[2], kw = dims[3];
        var window = OnnxWindow.Read(graph, node, new Size2d(kh, kw));
        if (window.Kernel.Height != kh || window.Kernel.Width != kw)
            throw graph.Unsupported(node, $"kernel_shape {window.Kernel} differs from its weight {Shape.Format(dims)}");
        var bias = new double[o];
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            var (biasDims, b) = graph.Constant(node, 2);
            if (b.Length != o) throw graph.Unsupported(node, $"its bias is {Shape.Format(biasDims)}; expected [{o}]");
            for (int k = 0; k < o; k++) bias[k] = b[k];
        }
        var scale = Enumerable.Repeat(1.0, o).ToArray();
        if (batchNorm is not null)
        {
            // y = (conv(x) + b - mean) * gamma / sqrt(var + eps) + beta, folded in double: W' = W * s, b' = (b - mean) * s + beta.
            var (s, shift) = BatchNorm(graph, batchNorm, o);
            for (int k = 0; k < o; k++)
            {
                scale[k] = s[k];
                bias[k] = bias[k] * s[k] + shift[k];
            }
        }
        var filter = new float[w.Length];
        for (int oc = 0; oc < o; oc++)
            for (int ic = 0; ic < i; ic++)
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                        filter[((y * kw + x) * i + ic) * o + oc] = (float)(w[((oc * i + ic) * kh + y) * kw + x] * scale[oc]);
        bool hasBias = batchNorm is not null || node.Input.Count > 2 && node.Input[2].Length > 0;
        return new ConvOp(node.Name, inputs, outputs, window,
            Tensor.FromArray(accelerator, filter, [kh, kw, i, o]),
            hasBias ? Tensor.FromArray(accelerator, bias.Select(v => (float)v).ToArray(), [o]) : null);
    }

    // Per channel: scale = gamma / sqrt(var + eps), shift = beta - mean * scale (inputs X, scale, B, mean, var).
    private static (double[] Scale, double[] Shift) BatchNorm(OnnxGraph graph, NodeProto node, int channels)
    {
        if (OnnxOps.Int(node, "spatial", 1) != 1) throw graph.Unsupported(node, "attribute 'spatial' = 0 is not supported (per-channel statistics only)");
        if (node.Input.Count != 5) throw graph.Unsupported(node, $"it has {node.Input.Count} inputs; expected X, scale, B, mean, var");
        double epsilon = OnnxOps.Float(node, "epsilon", 1e-5f);
        var parts = Enumerable.Range(1, 4).Select(k => graph.Constant(node, k).Data).ToArray();
        int c = channels < 0 ? parts[0].Length : channels;
        if (parts.Any(p => p.Length != c))
            throw graph.Unsupported(node, $"its scale, B, mean and var have {string.Join(", ", parts.Select(p => p.Length))} values; expected {c} each");
        var scale = new double[c];
        var shift = new double[c];
        for (int k = 0; k < c; k++)
        {
            scale[k] = parts[0][k] / Math.Sqrt(parts[3][k] + epsilon);
            shift[k] = parts[1][k] - parts[2][k] * scale[k];
        }
        return (scale, shift);
    }

    private static AddOp Arithmetic(Accelerator accelerator, OnnxGraph graph, NodeProto node, string[] inputs, string[] outputs)
    {
        int constants = node.Input.Count(graph.IsConstant);
        bool subtract = node.OpType == "Sub";
        if (constants == 0)
        {
            if (subtract) throw graph.Unsupported(node, "Sub of two graph tensors is not supported (only a graph tensor minus a constant)");
            if (node.Input.Count < 2 && node.OpType == "Add") throw graph.Unsupported(node, "Add needs two inputs");
            return new AddOp(node.Name, node.OpType, inputs, outputs, null, false);
        }
        if (node.Input.Count != 2 || constants != 1 || subtract && !graph.IsConstant(node.Input[1]))
            throw graph.Unsupported(node, $"{node.OpType} of a constant is supported as tensor {(subtract ? "-" : "+")} constant with exactly two inputs");
        var (dims, data) = graph.Constant(node, graph.IsConstant(node.Input[1]) ? 1 : 0);
        // numpy broadcasting against NCHW: dims align on the right, so [1, C, 1, 1] (or [C, 1, 1]) is per channel, a
        // scalar is one value, and [1, C, H, W] (or [C, H, W]) is an image; anything else is refused.
        if (dims.Length > 4 || dims.Any(d => d < 1))
            throw graph.Unsupported(node, $"its constant is {Shape.Format(dims)}; supported: a scalar, per-channel [1, C, 1, 1], or an image [1, C, H, W]");
        dims = [.. Enumerable.Repeat(1, 4 - dims.Length), .. dims];
        if (data.Length == 1)
            return new AddOp(node.Name, node.OpType, inputs, outputs, Tensor.FromArray(accelerator, data, [1]), subtract);
        if (dims[0] != 1 || dims[1] == 1 && data.Length > 1)
            throw graph.Unsupported(node, $"its constant is {Shape.Format(dims)} (aligned to NCHW); supported: a scalar, per-channel [1, C, 1, 1], or an image [1, C, H, W]");
        if (dims[2] == 1 && dims[3] == 1)
            return new AddOp(node.Name, node.OpType, inputs, outputs, Tensor.FromArray(accelerator, data, [data.Length]), subtract);
        int c = dims[1], h = dims[2], w = dims[3];
        var nhwc = new float[data.Length];
        for (int ch = 0; ch < c; ch++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    nhwc[(y * w + x) * c + ch] = data[(ch * h + y) * w + x];
        return new AddOp(node.Name, node.OpType, inputs, outputs, Tensor.FromArray(accelerator, nhwc, [1, h, w, c]), subtract);
    }

    private static PadOp Pad(OnnxGraph graph, NodeProto node, string[] inputs, string[] outputs)
    {
        string mode = OnnxOps.Text(node, "mode", "constant");
        if (mode != "constant") throw graph.Unsupported(node, $"attribute 'mode' = '{mode}' is not supported (only constant)");
        long[] pads = OnnxOps.Ints(node, "pads")
            ?? (node.Input.Count > 1 ? [.. graph.Constant(node, 1).Data.Select(v => (long)v)] : throw graph.Unsupported(node, "it gives no pads"));
        float value = node.Input.Count > 2 && node.Input[2].Length > 0 ? graph.Constant(node, 2).Data.FirstOrDefault() : OnnxOps.Float(node, "value", 0f);
        // NCHW: [n_begin, c_begin, h_begin, w_begin, n_end, c_end, h_end, w_end].
        if (pads.Length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads.Any(p => p < 0 || p > 4096))
            throw graph.Unsupported(node, $"pads [{string.Join(", ", pads)}] are not supported (only non-negative pads of height and width of an NCHW tensor)");
        return new PadOp(node.Name, inputs, outputs, (int)pads[2], (int)pads[6], (int)pads[3], (int)pads[7], value);
    }

    private static GemmOp Gemm(Accelerator accelerator, OnnxGraph graph, NodeProto node, string[] inputs, string[] outputs)
    {
        if (OnnxOps.Float(node, "alpha", 1f) != 1f || OnnxOps.Float(node, "beta", 1f) != 1f || OnnxOps.Int(node, "transA", 0) != 0)
            throw graph.Unsupported(node, "attributes 'alpha', 'beta' and 'transA' are supported at their defaults only (1, 1, 0): y = x B + C");
        var (dims, b) = graph.Constant(node, 1);
        if (dims.Length != 2) throw graph.Unsupported(node, $"its weight is {Shape.Format(dims)}; expected a matrix");
        bool transB = OnnxOps.Int(node, "transB", 0) != 0;
        int outFeatures = transB ? dims[0] : dims[1], inFeatures = transB ? dims[1] : dims[0];
        var weight = new float[b.Length];   // [out, in]
        for (int o = 0; o < outFeatures; o++)
            for (int i = 0; i < inFeatures; i++)
                weight[o * inFeatures + i] = transB ? b[o * inFeatures + i] : b[i * outFeatures + o];
        Tensor? bias = null;
        if (node.Input.Count > 2 && node.Input[2].Length > 0)
        {
            var (biasDims, c) = graph.Constant(node, 2);
            if (c.Length != outFeatures) throw graph.Unsupported(node, $"its C is {Shape.Format(biasDims)}; expected [{outFeatures}] (one value per output)");
            bias = Tensor.FromArray(accelerator, c, [outFeatures]);
        }
        return new GemmOp(node.Name, inputs, outputs, weight, outFeatures, inFeatures, bias, accelerator);
    }
}
