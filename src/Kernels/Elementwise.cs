// Elementwise arithmetic on same-shape float tensors (TF's Add/Sub/Mul without broadcasting, plus the fused
// forms the backward passes need).
//   a, b, x, output, accumulator: any rank, all the same shape; size(output) = size(a) (no broadcasting).
// One thread per element (implicitly grouped; the runtime's grid-stride loop covers the rest), so consecutive
// threads touch consecutive floats: fully coalesced, bandwidth-bound. Every output element depends only on the
// inputs at the same index, so an output may alias any input (in-place updates are safe).
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Elementwise arithmetic on same-shape tensors (no broadcasting); outputs may alias inputs.</summary>
public static class Elementwise
{
    /// <summary>output = a + b, elementwise.</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void Add(AcceleratorStream stream, TensorView<float> a, TensorView<float> b, TensorView<float> output) =>
        Binary<HostOps.AddOp>(stream, "Elementwise.Add", AddKernel, a, b, output);

    /// <summary>output = a - b, elementwise.</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void Subtract(AcceleratorStream stream, TensorView<float> a, TensorView<float> b, TensorView<float> output) =>
        Binary<HostOps.SubtractOp>(stream, "Elementwise.Subtract", SubtractKernel, a, b, output);

    /// <summary>output = a * b, elementwise (also the backward of a product: da = dy * b).</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void Multiply(AcceleratorStream stream, TensorView<float> a, TensorView<float> b, TensorView<float> output) =>
        Binary<HostOps.MultiplyOp>(stream, "Elementwise.Multiply", MultiplyKernel, a, b, output);

    /// <summary>accumulator += a * b, elementwise (gradient accumulation through a product).</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void MultiplyAdd(AcceleratorStream stream, TensorView<float> a, TensorView<float> b, TensorView<float> accumulator) =>
        Binary<HostOps.MultiplyAddOp>(stream, "Elementwise.MultiplyAdd", MultiplyAddKernel, a, b, accumulator, "accumulator");

    /// <summary>output = factor * x, elementwise (Scale(-1) is the backward of Subtract's second operand).</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void Scale(AcceleratorStream stream, TensorView<float> x, float factor, TensorView<float> output)
    {
        int n = Unary(stream, "Elementwise.Scale", x, "x", output, "output");
        if (n == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, float, ArrayView<float>>(ScaleKernel)(stream, n, x.Data, factor, output.Data);
    }

    /// <summary>accumulator += factor * x, elementwise (gradient accumulation; an SGD step with factor = -learning rate).</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void AddScaled(AcceleratorStream stream, TensorView<float> x, float factor, TensorView<float> accumulator)
    {
        int n = Unary(stream, "Elementwise.AddScaled", x, "x", accumulator, "accumulator");
        if (n == 0) return;
        if (HostRoute.Of(stream) is { } cpu)
        {
            HostOps.Binary<HostOps.AddScaledOp>(cpu, x.Data, x.Data, accumulator.Data, n, factor);
            return;
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, float, ArrayView<float>>(AddScaledKernel)(stream, n, x.Data, factor, accumulator.Data);
    }

    /// <summary>output = a / b, elementwise (IEEE division: x / 0 is an infinity or NaN, as in TF and PyTorch).</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void Divide(AcceleratorStream stream, TensorView<float> a, TensorView<float> b, TensorView<float> output) =>
        Binary<HostOps.DivideOp>(stream, "Elementwise.Divide", DivideKernel, a, b, output);

    /// <summary>output = x + value, elementwise (x - value is x + (-value), the same bits).</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void AddScalar(AcceleratorStream stream, TensorView<float> x, float value, TensorView<float> output) =>
        WithScalar(stream, "Elementwise.AddScalar", AddScalarKernel, x, value, output);

    /// <summary>output = x / divisor, elementwise (a true division, not a multiplication by 1 / divisor).</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void DivideByScalar(AcceleratorStream stream, TensorView<float> x, float divisor, TensorView<float> output) =>
        WithScalar(stream, "Elementwise.DivideByScalar", DivideByScalarKernel, x, divisor, output);

    /// <summary>output = dividend / x, elementwise.</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void ScalarDivide(AcceleratorStream stream, float dividend, TensorView<float> x, TensorView<float> output) =>
        WithScalar(stream, "Elementwise.ScalarDivide", ScalarDivideKernel, x, dividend, output);

    /// <summary>output = x, an asynchronous device copy on the stream.</summary>
    /// <exception cref="ArgumentException">A view does not hold its shape, the shapes differ, or a view lives on another accelerator.</exception>
    public static void Copy(AcceleratorStream stream, TensorView<float> x, TensorView<float> output)
    {
        int n = Unary(stream, "Elementwise.Copy", x, "x", output, "output");
        if (n == 0) return;
        x.Data.CopyTo(stream, output.Data);
    }

    /// <summary>output = a + b.</summary>
    [Kernel]
    public static void AddKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output) => output[i] = a[i] + b[i];

    /// <summary>output = a - b.</summary>
    [Kernel]
    public static void SubtractKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output) => output[i] = a[i] - b[i];

    /// <summary>output = a * b.</summary>
    [Kernel]
    public static void MultiplyKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output) => output[i] = a[i] * b[i];

    /// <summary>accumulator += a * b (two roundings: no FMA contraction on any backend).</summary>
    [Kernel]
    public static void MultiplyAddKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> accumulator) => accumulator[i] = accumulator[i] + a[i] * b[i];

    /// <summary>output = a / b.</summary>
    [Kernel]
    internal static void DivideKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output) => output[i] = a[i] / b[i];

    /// <summary>output = x + value.</summary>
    [Kernel]
    internal static void AddScalarKernel(Index1D i, ArrayView<float> x, float value, ArrayView<float> output) => output[i] = x[i] + value;

    /// <summary>output = x / divisor.</summary>
    [Kernel]
    internal static void DivideByScalarKernel(Index1D i, ArrayView<float> x, float divisor, ArrayView<float> output) => output[i] = x[i] / divisor;

    /// <summary>output = dividend / x.</summary>
    [Kernel]
    internal static void ScalarDivideKernel(Index1D i, ArrayView<float> x, float dividend, ArrayView<float> output) => output[i] = dividend / x[i];

    private static void WithScalar(AcceleratorStream stream, string op, Action<Index1D, ArrayView<float>, float, ArrayView<float>> kernel,
        TensorView<float> x, float value, TensorView<float> output)
    {
        int n = Unary(stream, op, x, "x", output, "output");
        if (n == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, float, ArrayView<float>>(kernel)(stream, n, x.Data, value, output.Data);
    }

    /// <summary>output = factor * x.</summary>
    public static void ScaleKernel(Index1D i, ArrayView<float> x, float factor, ArrayView<float> output) => output[i] = factor * x[i];

    /// <summary>accumulator += factor * x.</summary>
    public static void AddScaledKernel(Index1D i, ArrayView<float> x, float factor, ArrayView<float> accumulator) => accumulator[i] = accumulator[i] + factor * x[i];

    // The kernel on GPUs and pocl; THost's loop on the CPU accelerator's host route (HostOps.Binary: the same bits).
    private static void Binary<THost>(AcceleratorStream stream, string op, Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> kernel,
        TensorView<float> a, TensorView<float> b, TensorView<float> output, string outputName = "output")
        where THost : struct, HostOps.IBinaryOp
    {
        int n = Unary(stream, op, a, "a", output, outputName);
        ShapeCheck.View(op, "b", b);
        ShapeCheck.Equal(op, "b", b.Shape, a.Shape, "the same shape as a; no broadcasting");
        ShapeCheck.SameAccelerator(op, stream, "b", b);
        if (n == 0) return;
        if (HostRoute.Of(stream) is { } cpu)
        {
            HostOps.Binary<THost>(cpu, a.Data, b.Data, output.Data, n);
            return;
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(kernel)(stream, n, a.Data, b.Data, output.Data);
    }

    /// <summary>
    /// The checks of a same-shape op with input <paramref name="x"/> and result <paramref name="output"/>: both views hold
    /// their shapes, the shapes are equal, both live on the stream's accelerator and the size fits the kernels' 32-bit
    /// indices. Returns the element count.
    /// </summary>
    internal static int Unary(AcceleratorStream stream, string op, TensorView<float> x, string xName, TensorView<float> output, string outputName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ShapeCheck.View(op, xName, x);
        ShapeCheck.View(op, outputName, output);
        ShapeCheck.Equal(op, outputName, output.Shape, x.Shape, $"the same shape as {xName}");
        ShapeCheck.SameAccelerator(op, stream, xName, x);
        ShapeCheck.SameAccelerator(op, stream, outputName, output);
        return CheckedSize(op, xName, x.Shape);
    }

    /// <summary>The element count of <paramref name="shape"/> as an int; the kernels index with 32-bit integers.</summary>
    internal static int CheckedSize(string op, string name, Shape shape)
    {
        if (shape.Size > int.MaxValue)
            throw new ArgumentException($"{op}: {name} has shape {shape} ({shape.Size} elements); the kernels index with 32-bit integers, so at most {int.MaxValue} elements are supported.", name);
        return (int)shape.Size;
    }
}
