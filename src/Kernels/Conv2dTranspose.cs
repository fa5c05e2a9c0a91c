// Conv2dTranspose: tf.nn.conv2d_transpose, the gradient of conv2d with respect to its input (Conv2DBackpropInput).
//   value v: [N, n_h, n_w, Cin_v] NHWC, filter: [KH, KW, Cout, Cin_v] (the forward conv's HWIO filter),
//   output: [N, o_h, o_w, Cout] = outputShape (the forward conv's input shape).
//   out[b, i*s + kh*d - padTop, j*s + kw*d - padLeft, co] += v[b, i, j, ci] * filter[kh, kw, co, ci]
//   with pad_top / pad_left from TF's window rule applied to the OUTPUT size o (docs/reference/op-semantics.md section 2).
//   TF accepts outputShape when windowed_out(o, k, s, padding) == n per spatial dimension:
//   SAME s(n-1)+1 <= o <= s*n, VALID (n-1)s+e <= o <= (n-1)s+e+s-1 with e = (k-1)*d + 1.
// No kernels of its own: Forward is Conv2d's dgrad GEMM, BackwardValue its forward GEMM and BackwardFilter its
// split-K wgrad GEMM with the roles of the tensors swapped (see Conv2d.cs).

using System.Globalization;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Transposed 2-D convolution (tf.nn.conv2d_transpose) over NHWC data and its value and filter gradients.</summary>
public static class Conv2dTranspose
{
    private const string Op = "Conv2dTranspose";

    /// <summary>
    /// The output sizes TF accepts along one dimension for a value of <paramref name="valueSize"/>: those o with
    /// windowed_out(o) == n, i.e. SAME <c>s(n-1)+1 .. s*n</c> and VALID <c>(n-1)s+e .. (n-1)s+e+s-1</c> (e the dilated kernel).
    /// </summary>
    /// <exception cref="ArgumentException">A size is negative or the kernel, stride or dilation is below 1.</exception>
    public static (int Min, int Max) AcceptedOutputSizes(int valueSize, int kernel, int stride, int dilation, Padding padding)
    {
        if (valueSize < 0 || kernel < 1 || stride < 1 || dilation < 1)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{Op}: value size {valueSize}, kernel {kernel}, stride {stride}, dilation {dilation}; the size must be zero or more and the others at least 1."));
        int effective = (kernel - 1) * dilation + 1;
        return padding switch
        {
            Padding.Same => (Math.Max(0, stride * (valueSize - 1) + 1), stride * valueSize),
            Padding.Valid => (Math.Max(0, (valueSize - 1) * stride + effective), (valueSize - 1) * stride + effective + stride - 1),
            _ => throw new ArgumentException($"{Op}: padding {padding} is neither SAME nor VALID.", nameof(padding)),
        };
    }

    /// <summary>Checks that value, filter and outputShape fit together under TF's conv2d_transpose rules.</summary>
    /// <exception cref="ArgumentException">A rank, the batch or a channel count disagrees, or outputShape does not map back to value's size (the message gives the accepted sizes).</exception>
    public static void CheckShapes(Shape value, Shape filter, Shape outputShape, Conv2dOptions options) =>
        Check(Op, "value", value, filter, "outputShape", outputShape, options);

    /// <summary>output = conv2d_transpose(value, filter) with output's shape as TF's output_shape.</summary>
    /// <exception cref="ArgumentException">The shapes disagree (see <see cref="CheckShapes"/>) or a view lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<float> value, TensorView<float> filter,
                               TensorView<float> output, Conv2dOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckViews(Op, stream, "value", value, filter, "output", output);
        var g = Check(Op, "value", value.Shape, filter.Shape, "output", output.Shape, options);
        Conv2dKernels.LaunchBackwardInput(stream, value.Data, filter.Data, output.Data, g);
    }

    /// <summary>dvalue = d(sum output*outputGrad)/dvalue, which is conv2d(outputGrad, filter) with the same options.</summary>
    /// <exception cref="ArgumentException">The shapes disagree or a view lives on another accelerator.</exception>
    public static void BackwardValue(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<float> filter,
                                     TensorView<float> valueGrad, Conv2dOptions options)
    {
        const string op = Op + ".BackwardValue";
        ArgumentNullException.ThrowIfNull(stream);
        CheckViews(op, stream, "valueGrad", valueGrad, filter, "outputGrad", outputGrad);
        var g = Check(op, "valueGrad", valueGrad.Shape, filter.Shape, "outputGrad", outputGrad.Shape, options);
        Conv2dKernels.LaunchForward(stream, outputGrad.Data, filter.Data, null, valueGrad.Data, g);
    }

    /// <summary>dfilter = d(sum output*outputGrad)/dfilter, which is conv2d's filter gradient with x = outputGrad and dy = value; overwrites filterGrad.</summary>
    /// <exception cref="ArgumentException">The shapes disagree or a view lives on another accelerator.</exception>
    public static void BackwardFilter(AcceleratorStream stream, TensorView<float> value, TensorView<float> outputGrad,
                                      TensorView<float> filterGrad, Conv2dOptions options)
    {
        const string op = Op + ".BackwardFilter";
        ArgumentNullException.ThrowIfNull(stream);
        CheckViews(op, stream, "value", value, filterGrad, "outputGrad", outputGrad, "filterGrad");
        var g = Conv2dKernels.CheckTransposed(op, "value", value.Shape, filterGrad.Shape, "outputGrad", outputGrad.Shape, options, "output", "value", "filterGrad");
        Conv2dKernels.LaunchBackwardFilter(stream, outputGrad.Data, value.Data, filterGrad.Data, g);
    }

    private static WindowGeometry Check(string op, string valueName, Shape value, Shape filter, string outputName, Shape output, Conv2dOptions options) =>
        Conv2dKernels.CheckTransposed(op, valueName, value, filter, outputName, output, options, "output", "value");

    private static void CheckViews(string op, AcceleratorStream stream, string valueName, TensorView<float> value, TensorView<float> filter,
                                   string outputName, TensorView<float> output, string filterName = "filter")
    {
        ShapeCheck.Tensor(op, valueName, value, 4, "NHWC [N, H, W, C]");
        ShapeCheck.Tensor(op, filterName, filter, 4, "[KH, KW, output channels, value channels]");
        ShapeCheck.Tensor(op, outputName, output, 4, "NHWC [N, H, W, C]");
        ShapeCheck.SameAccelerator(op, stream, valueName, value);
        ShapeCheck.SameAccelerator(op, stream, filterName, filter);
        ShapeCheck.SameAccelerator(op, stream, outputName, output);
    }
}
