using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using GpuDeconv.Training.Onnx.Proto;

namespace GpuDeconv.Training;

/// <summary>
/// The ONNX operators the importer runs, each turned at load time into an <see cref="OnnxOp"/> whose weights already sit
/// on the accelerator in NHWC/HWIO order. Semantics: docs/reference/onnx-import.md.
/// </summary>
internal static class OnnxOps
{
    /// <summary>Every supported operator and the attributes it may carry; anything else is refused at load.</summary>
    public static readonly Dictionary<string, string[]> Attributes = new(StringComparer.Ordinal)
    {
        ["Conv"] = ["kernel_shape", "strides", "pads", "auto_pad", "dilations", "group"],
        ["BatchNormalization"] = ["epsilon", "momentum", "spatial"],
        ["Relu"] = [],
        ["MaxPool"] = ["kernel_shape", "strides", "pads", "auto_pad", "dilations", "ceil_mode", "storage_order"],
        ["AveragePool"] = ["kernel_shape", "strides", "pads", "auto_pad", "count_include_pad", "ceil_mode"],
        ["GlobalAveragePool"] = [],
        ["Add"] = [],
        ["Sum"] = [],
        ["Sub"] = [],
        ["Pad"] = ["mode", "pads", "value"],
        ["Flatten"] = ["axis"],
        ["Gemm"] = ["alpha", "beta", "transA", "transB"],
        ["Split"] = ["axis", "split"],
        ["Concat"] = ["axis"],
        ["Identity"] = [],
        ["Dropout"] = ["ratio", "seed"],
    };

    public static long Int(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    public static float Float(NodeProto node, string name, float fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    public static string Text(NodeProto node, string name, string fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.S.ToStringUtf8() : fallback;

    public static long[]? Ints(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? [.. a.Ints] : null;
}

/// <summary>A window's padding as ONNX gives it (explicit pads or auto_pad), resolved per input size to TF's SAME, VALID, or an explicit pad before a VALID window.</summary>
internal sealed record OnnxWindow(string Node, Size2d Kernel, Size2d Stride, Size2d Dilation, int[] Pads, string AutoPad)
{
    public static OnnxWindow Read(OnnxGraph graph, NodeProto node, Size2d? kernel = null)
    {
        var k = Pair(graph, node, "kernel_shape", null) ?? kernel
            ?? throw graph.Unsupported(node, "it has no kernel_shape attribute and its weights give none");
        var stride = Pair(graph, node, "strides", 1)!.Value;
        var dilation = Pair(graph, node, "dilations", 1)!.Value;
        var pads = OnnxOps.Ints(node, "pads") ?? [0, 0, 0, 0];
        if (pads.Length != 4 || pads.Any(p => p < 0 || p > 4096))
            throw graph.Unsupported(node, $"pads [{string.Join(", ", pads)}] are not four spatial pads in 0..4096 (ONNX order: top, left, bottom, right)");
        string autoPad = OnnxOps.Text(node, "auto_pad", "NOTSET");
        if (autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
            throw graph.Unsupported(node, $"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        if (OnnxOps.Int(node, "ceil_mode", 0) != 0)
            throw graph.Unsupported(node, "attribute 'ceil_mode' = 1 is not supported (output sizes round down, as in TensorFlow)");
        return new OnnxWindow($"'{node.Name}' ({node.OpType})", k, stride, dilation, [.. pads.Select(p => (int)p)], autoPad);
    }

    private static Size2d? Pair(OnnxGraph graph, NodeProto node, string name, int? fallback)
    {
        var values = OnnxOps.Ints(node, name);
        if (values is null) return fallback is int f ? new Size2d(f, f) : null;
        if (values.Length != 2 || values.Any(v => v < 1 || v > 4096))
            throw graph.Unsupported(node, $"attribute '{name}' = [{string.Join(", ", values)}] is not two values in 1..4096 (the importer runs 2-D windows)");
        return new Size2d((int)values[0], (int)values[1]);
    }

    /// <summary>The padding of this window over an input of <paramref name="height"/> x <paramref name="width"/>: TF's Padding when it is the same, else explicit (top, bottom, left, right) before a VALID window.</summary>
    public (Padding Padding, int Top, int Bottom, int Left, int Right) Resolve(int height, int width, bool allowSame = true)
    {
        var (top, bottom) = Along(height, Kernel.Height, Stride.Height, Dilation.Height, Pads[0], Pads[2]);
        var (left, right) = Along(width, Kernel.Width, Stride.Width, Dilation.Width, Pads[1], Pads[3]);
        var (sameTop, sameBottom) = Same(height, Kernel.Height, Stride.Height, Dilation.Height, upper: true);
        var (sameLeft, sameRight) = Same(width, Kernel.Width, Stride.Width, Dilation.Width, upper: true);
        if (top == 0 && bottom == 0 && left == 0 && right == 0) return (Padding.Valid, 0, 0, 0, 0);
        if (allowSame && top == sameTop && bottom == sameBottom && left == sameLeft && right == sameRight) return (Padding.Same, 0, 0, 0, 0);
        return (Padding.Valid, top, bottom, left, right);
    }

    private (int Before, int After) Along(int size, int kernel, int stride, int dilation, int before, int after) => AutoPad switch
    {
        "VALID" => (0, 0),
        "SAME_UPPER" => Same(size, kernel, stride, dilation, upper: true),
        "SAME_LOWER" => Same(size, kernel, stride, dilation, upper: false),
        _ => (before, after),
    };

    // TF's SAME (= ONNX SAME_UPPER): out = ceil(in / stride), the odd cell after; SAME_LOWER puts it before.
    private static (int Before, int After) Same(int size, int kernel, int stride, int dilation, bool upper)
    {
        int output = (size + stride - 1) / stride;
        int total = Math.Max((output - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
        return upper ? (total / 2, total - total / 2) : (total - total / 2, total / 2);
    }
}

/// <summary>One executable node: reads tensors by name, produces one (or, for Split, several); Identity, Dropout and Flatten may return their input itself.</summary>
internal abstract class OnnxOp(string name, string opType, string[] inputs, string[] outputs) : IDisposable
{
    public string Name { get; } = name;
    public string OpType { get; } = opType;
    public string[] Inputs { get; } = inputs;
    public string[] Outputs { get; } = outputs;

    /// <summary>Whether this node starts a deconvnet layer (a convolution).</summary>
    public virtual bool IsLayer => false;

    public abstract Tensor[] Run(Tensor[] inputs, ForwardTrace? trace);

    public virtual void Dispose() { }

    protected InvalidOperationException ShapeError(string what) => new($"ONNX node '{Name}' ({OpType}): {what}.");

    // A window's padding for this input: TF's Padding, or explicit (top, bottom, left, right) before a VALID window.
    protected static (Padding Padding, (int Top, int Bottom, int Left, int Right) Pads) Resolve(OnnxWindow window, Tensor input, bool allowSame = true)
    {
        var (padding, top, bottom, left, right) = window.Resolve(input.Shape[1], input.Shape[2], allowSame);
        return (padding, (top, bottom, left, right));
    }

    // The input with explicit pads of `value` around it (recorded when traced); the input itself when there are none.
    protected static Tensor Pad(Tensor input, (int Top, int Bottom, int Left, int Right) pads, float value, ForwardTrace? trace)
    {
        var (top, bottom, left, right) = pads;
        if (top + bottom + left + right == 0) return input;
        return trace is null ? Functional.Pad2d(input, top, bottom, left, right, value) : trace.Pad2d(input, top, bottom, left, right, value);
    }

    // A padded copy is the node's own temporary; a trace borrows it, so only an untraced one is freed.
    protected static void FreePad(Tensor padded, Tensor input, ForwardTrace? trace)
    {
        if (trace is null && !ReferenceEquals(padded, input)) FreeUnlessGraphNeeds(padded);
    }

    // A node's own temporary is freed at once, unless autograd's graph holds it for a backward pass.
    protected static void FreeUnlessGraphNeeds(Tensor temporary)
    {
        if (temporary.RequiresGrad) temporary.ReleaseToGraph();
        else temporary.Dispose();
    }
}

/// <summary>
/// Conv (with a folded BatchNormalization when one follows), HWIO filter on the accelerator. The weights are constants,
/// so an untraced pass keeps what the CPU accelerator derives from them (a Winograd transform, repacked columns) from
/// one call to the next (Conv2dFilterCache).
/// </summary>
internal sealed class ConvOp(string name, string[] inputs, string[] outputs, OnnxWindow window, Tensor filter, Tensor? bias)
    : OnnxOp(name, "Conv", inputs, outputs)
{
    private readonly Conv2dFilterCache _cache = new();

    public Tensor Filter { get; } = filter;
    public Tensor? Bias { get; } = bias;
    public override bool IsLayer => true;

    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace)
    {
        var input = x[0];
        if (input.Shape[3] != Filter.Shape[2])
            throw ShapeError($"its input has {input.Shape[3]} channels ({input.Shape}) but its weights expect {Filter.Shape[2]}");
        var (padding, pads) = Resolve(window, input);
        var padded = Pad(input, pads, 0f, trace);
        var output = trace is null
            ? Functional.Conv2d(padded, Filter, window.Stride, padding, window.Dilation, Bias, Filter.RequiresGrad ? null : _cache)
            : trace.Conv2d(padded, Filter, window.Stride, padding, window.Dilation, Bias);
        FreePad(padded, input, trace);
        return [output];
    }

    public override void Dispose()
    {
        Filter.Dispose();
        Bias?.Dispose();
        _cache.Dispose();
    }
}

/// <summary>A BatchNormalization that follows no convolution of its own: y = x * scale + shift per channel, as a 1x1 convolution by the diagonal matrix (exact: one product per output).</summary>
internal sealed class AffineOp(string name, string[] inputs, string[] outputs, Tensor diagonal, Tensor shift)
    : OnnxOp(name, "BatchNormalization", inputs, outputs)
{
    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace) =>
        [Functional.Conv2d(x[0], diagonal, 1, Padding.Valid, 1, shift)];

    public override void Dispose()
    {
        diagonal.Dispose();
        shift.Dispose();
    }
}

internal sealed class ReluOp(string name, string[] inputs, string[] outputs) : OnnxOp(name, "Relu", inputs, outputs)
{
    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace) => [trace is null ? Functional.Relu(x[0]) : trace.Relu(x[0])];
}

/// <summary>MaxPool: ONNX pads count as -infinity, so an explicit pad is -infinity before a VALID window; traced with argmax switches.</summary>
internal sealed class MaxPoolOp(string name, string[] inputs, string[] outputs, OnnxWindow window) : OnnxOp(name, "MaxPool", inputs, outputs)
{
    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace)
    {
        var input = x[0];
        var (padding, pads) = Resolve(window, input);
        var padded = Pad(input, pads, float.NegativeInfinity, trace);
        var output = trace is null
            ? Functional.MaxPool(padded, window.Kernel, window.Stride, padding)
            : trace.MaxPoolWithArgmax(padded, window.Kernel, window.Stride, padding).Values;
        FreePad(padded, input, trace);
        return [output];
    }
}

/// <summary>AveragePool and GlobalAveragePool (the whole map as one window).</summary>
internal sealed class AvgPoolOp(string name, string opType, string[] inputs, string[] outputs, OnnxWindow? window, bool countIncludePad)
    : OnnxOp(name, opType, inputs, outputs)
{
    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace)
    {
        var input = x[0];
        var (kernel, stride) = window is null
            ? (new Size2d(input.Shape[1], input.Shape[2]), new Size2d(1, 1))
            : (window.Kernel, window.Stride);
        // TF's SAME average divides by the real cells (count_include_pad = 0); an explicit zero pad counts its cells, so
        // counted pads always run as an explicit pad and a VALID window.
        var (padding, pads) = window is null ? (Padding.Valid, (0, 0, 0, 0)) : Resolve(window, input, allowSame: !countIncludePad);
        if (pads != (0, 0, 0, 0) && !countIncludePad)
            throw new NotSupportedException($"ONNX node '{Name}' (AveragePool): pads [{string.Join(", ", window!.Pads)}] over {input.Shape} differ from TensorFlow's SAME and count_include_pad = 0; the importer runs uncounted pads only where they are SAME's.");
        var padded = Pad(input, pads, 0f, trace);
        var output = trace is null ? Functional.AvgPool(padded, kernel, stride, padding) : trace.AvgPool(padded, kernel, stride, padding);
        FreePad(padded, input, trace);
        return [output];
    }
}

/// <summary>Add / Sum of graph tensors (a residual join when traced), or Add / Sub of a constant broadcast over the batch.</summary>
internal sealed class AddOp(string name, string opType, string[] inputs, string[] outputs, Tensor? constant, bool subtract)
    : OnnxOp(name, opType, inputs, outputs)
{
    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace)
    {
        if (constant is not null) return [WithConstant(x[0])];
        var sum = x[0];
        for (int i = 1; i < x.Length; i++)
        {
            if (x[i].Shape != sum.Shape)
                throw ShapeError($"input {i} is {x[i].Shape} but input 0 is {x[0].Shape}; the importer adds graph tensors of one shape");
            var next = trace is null ? Functional.Add(sum, x[i]) : trace.Add(sum, x[i]);
            if (i > 1 && trace is null) FreeUnlessGraphNeeds(sum);
            sum = next;
        }
        return [ReferenceEquals(sum, x[0]) ? sum.Clone() : sum];
    }

    private Tensor WithConstant(Tensor input)
    {
        var c = constant!;
        if (c.Shape.Rank == 1 && c.Shape[0] == 1 && input.Shape[3] != 1)
        {
            // A scalar: x + c or x - c for every element.
            float value = c.ToArray()[0];
            return Functional.AddScalar(input, subtract ? -value : value);
        }
        if (c.Shape.Rank == 1)
        {
            if (c.Shape[0] != input.Shape[3]) throw ShapeError($"its constant has {c.Shape[0]} values but the input {input.Shape} has {input.Shape[3]} channels");
            return subtract ? Functional.BiasSubtract(input, c) : Functional.BiasAdd(input, c);
        }
        if (c.Shape[1] != input.Shape[1] || c.Shape[2] != input.Shape[2] || c.Shape[3] != input.Shape[3])
            throw ShapeError($"its constant is {c.Shape} (NHWC) but the input is {input.Shape}");
        using var scope = new TensorScope();
        var tiled = input.Shape[0] == 1 ? c : Functional.Concat(Enumerable.Repeat(c, input.Shape[0]).ToArray(), 0);
        return scope.Keep(subtract ? Functional.Subtract(input, tiled) : Functional.Add(input, tiled));
    }

    public override void Dispose() => constant?.Dispose();
}

/// <summary>Pad (constant mode, spatial pads only).</summary>
internal sealed class PadOp(string name, string[] inputs, string[] outputs, int top, int bottom, int left, int right, float value)
    : OnnxOp(name, "Pad", inputs, outputs)
{
    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace) =>
        [trace is null ? Functional.Pad2d(x[0], top, bottom, left, right, value) : trace.Pad2d(x[0], top, bottom, left, right, value)];
}

/// <summary>
/// Flatten then Gemm: ONNX flattens NCHW, so the weight rows are reordered once per input size from (c, h, w) to our
/// (h, w, c) order; y = x W^T + b with alpha = beta = 1.
/// </summary>
internal sealed class FlattenOp(string name, string[] inputs, string[] outputs) : OnnxOp(name, "Flatten", inputs, outputs)
{
    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace)
    {
        var s = x[0].Shape;
        return [s.Rank == 2 ? x[0] : x[0].Reshape([s[0], (int)(x[0].Size / s[0])])];
    }
}

internal sealed class GemmOp(string name, string[] inputs, string[] outputs, float[] weight, int outFeatures, int inFeatures, Tensor? bias, Accelerator accelerator)
    : OnnxOp(name, "Gemm", inputs, outputs)
{
    // The weight in our order for the spatial size it last met: [in, out] with rows in (h, w, c) order.
    private Tensor? _weight;
    private (int H, int W, int C) _layout = (-1, -1, -1);

    public (int H, int W, int C) SpatialSource { get; set; } = (1, 1, 0);

    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace)
    {
        var input = x[0];
        if (input.Shape.Rank != 2 || input.Shape[1] != inFeatures)
            throw ShapeError($"its input is {input.Shape} but its weights expect [N, {inFeatures}]");
        var (h, w, c) = SpatialSource.C == 0 ? (1, 1, inFeatures) : SpatialSource;
        if (_weight is null || _layout != (h, w, c))
        {
            _weight?.Dispose();
            var reordered = new float[weight.Length];
            for (int o = 0; o < outFeatures; o++)
                for (int ci = 0; ci < c; ci++)
                    for (int yi = 0; yi < h; yi++)
                        for (int xi = 0; xi < w; xi++)
                            reordered[((yi * w + xi) * c + ci) * outFeatures + o] = weight[o * inFeatures + (ci * h + yi) * w + xi];
            // The op owns its weight: made outside the caller's scope, which would free it when the pass ends.
            using (TensorScope.Untracked()) _weight = Tensor.FromArray(accelerator, reordered, [inFeatures, outFeatures]);
            _layout = (h, w, c);
        }
        var product = Functional.MatMul(input, _weight);
        if (bias is null) return [product];
        var output = Functional.BiasAdd(product, bias);
        FreeUnlessGraphNeeds(product);
        return [output];
    }

    public override void Dispose()
    {
        _weight?.Dispose();
        bias?.Dispose();
    }
}

/// <summary>Split and Concat along the channel axis (ONNX axis 1 of NCHW is our axis 3).</summary>
internal sealed class ChannelOp(string name, string opType, string[] inputs, string[] outputs, int[] sizes) : OnnxOp(name, opType, inputs, outputs)
{
    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace)
    {
        if (OpType == "Concat") return [Functional.Concat(x, 3)];
        var input = x[0];
        var parts = sizes.Length > 0 ? sizes : [.. Enumerable.Repeat(input.Shape[3] / Outputs.Length, Outputs.Length)];
        if (parts.Sum() != input.Shape[3]) throw ShapeError($"split sizes [{string.Join(", ", parts)}] do not add up to the {input.Shape[3]} channels of {input.Shape}");
        var outputs = parts.Select(p => Tensor.Empty(input.Accelerator, [input.Shape[0], input.Shape[1], input.Shape[2], p])).ToArray();
        Kernels.Concat.Backward(input.Stream, input.View, 3, outputs.Select(o => o.View).ToArray());
        // Each slice's gradient is the input's gradient with zeros in the other slices' channels.
        int offset = 0;
        for (int k = 0; k < outputs.Length; k++)
        {
            int before = offset, after = input.Shape[3] - offset - parts[k];
            offset += parts[k];
            outputs[k] = Autograd.Record(outputs[k], [input], grad =>
            {
                var pieces = new List<Tensor>(3);
                if (before > 0) pieces.Add(Tensor.Zeros(grad.Accelerator, [grad.Shape[0], grad.Shape[1], grad.Shape[2], before]));
                pieces.Add(grad);
                if (after > 0) pieces.Add(Tensor.Zeros(grad.Accelerator, [grad.Shape[0], grad.Shape[1], grad.Shape[2], after]));
                return [pieces.Count == 1 ? grad.Clone() : Functional.Concat(pieces, 3)];
            });
        }
        return outputs;
    }
}

internal sealed class IdentityOp(string name, string opType, string[] inputs, string[] outputs) : OnnxOp(name, opType, inputs, outputs)
{
    public override Tensor[] Run(Tensor[] x, ForwardTrace? trace) => [x[0]];
}
