using GpuDeconv.Kernels;
using KernelConcat = GpuDeconv.Kernels.Concat;

namespace GpuDeconv.Layers;

public static partial class Functional
{
    // ---- explicit spatial padding -----------------------------------------------------------------------------
    // TF's SAME puts the odd padding cell at the bottom/right; ONNX models (PyTorch, CNTK) give their pads
    // explicitly and may put it at the top/left. An explicit pad followed by a VALID window reproduces any of them.

    /// <summary>
    /// tf.pad on the height and width of an NHWC tensor: <paramref name="top"/>/<paramref name="bottom"/> rows and
    /// <paramref name="left"/>/<paramref name="right"/> columns of <paramref name="value"/> around [N, H, W, C]. The
    /// gradient is the crop of the output gradient.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not a rank-4 float tensor, or a pad is negative.</exception>
    public static Tensor Pad2d(Tensor input, int top, int bottom, int left, int right, float value = 0f)
    {
        RequireSpatial("Pad2d", input, top, bottom, left, right);
        using var intermediates = TensorScope.ForIntermediates();
        var padded = WithPads(WithPads(input, 1, top, bottom, value), 2, left, right, value);
        return intermediates.Keep(ReferenceEquals(padded, input) ? input.Clone() : padded);

        static Tensor WithPads(Tensor x, int axis, int before, int after, float value)
        {
            if (before == 0 && after == 0) return x;
            var parts = new List<Tensor>(3);
            if (before > 0) parts.Add(Tensor.Fill(x.Accelerator, Resized(x.Shape, axis, before), value));
            parts.Add(x);
            if (after > 0) parts.Add(Tensor.Fill(x.Accelerator, Resized(x.Shape, axis, after), value));
            return Concat(parts, axis);
        }
    }

    /// <summary>
    /// The inverse of <see cref="Pad2d"/>: drops <paramref name="top"/>/<paramref name="bottom"/> rows and
    /// <paramref name="left"/>/<paramref name="right"/> columns of an NHWC tensor. The gradient pads with zeros.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not a rank-4 float tensor, a crop is negative, or nothing would be left.</exception>
    public static Tensor Crop2d(Tensor input, int top, int bottom, int left, int right)
    {
        const string op = "Crop2d";
        var shape = RequireSpatial(op, input, top, bottom, left, right);
        if (top + bottom >= shape[1] || left + right >= shape[2])
            throw new ArgumentException(
                $"{op}: cropping {top}+{bottom} rows and {left}+{right} columns from {shape} leaves nothing; each crop pair must be smaller than the height and width.",
                nameof(input));
        Tensor output;
        using (Autograd.NoGrad())
        {
            using var scope = new TensorScope();
            output = scope.Keep(Middle(Middle(input, 1, top, bottom), 2, left, right));
            if (ReferenceEquals(output, input)) output = scope.Keep(input.Clone());
        }
        return Autograd.Record(output, [input], grad => [Pad2d(grad, top, bottom, left, right)]);

        // The middle part of x along axis: Concat's backward splits x into [before | middle | after].
        static Tensor Middle(Tensor x, int axis, int before, int after)
        {
            if (before == 0 && after == 0) return x;
            var parts = new List<Tensor>(3);
            if (before > 0) parts.Add(Tensor.Empty(x.Accelerator, Resized(x.Shape, axis, before)));
            var middle = Tensor.Empty(x.Accelerator, Resized(x.Shape, axis, x.Shape[axis] - before - after));
            parts.Add(middle);
            if (after > 0) parts.Add(Tensor.Empty(x.Accelerator, Resized(x.Shape, axis, after)));
            KernelConcat.Backward(x.Stream, x.View, axis, parts.Select(p => p.View).ToArray());
            return middle;
        }
    }

    private static Shape RequireSpatial(string op, Tensor input, int top, int bottom, int left, int right)
    {
        RequireFloat(op, (nameof(input), input));
        var shape = input.Shape;
        if (shape.Rank != 4)
            throw new ArgumentException($"{op}: input is {shape}; expected rank 4 [N, H, W, C].", nameof(input));
        if (top < 0 || bottom < 0 || left < 0 || right < 0)
            throw new ArgumentException($"{op}: top {top}, bottom {bottom}, left {left}, right {right} must all be >= 0.", nameof(input));
        return shape;
    }

    private static Shape Resized(Shape shape, int axis, int size)
    {
        var dims = shape.Dims;
        dims[axis] = size;
        return new Shape(dims);
    }
}
