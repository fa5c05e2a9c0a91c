// Pointwise activations and their backward passes (tf.nn.relu / sigmoid / tanh and TF's ReluGrad, SigmoidGrad,
// TanhGrad), plus the two other ways a signal may cross a ReLU in the visualisation methods of docs/reference/op-semantics.md
// section 4 ("Related methods").
//   x, y, outputGrad, forwardInput, forwardOutput, inputGrad: any rank, all the same shape.
//   Relu:    y = x < 0 ? 0 : x            (Eigen's max(x, 0): NaN stays NaN, as in TF on the CPU)
//   Sigmoid: y = 1 / (1 + e^-x), computed from e = e^-|x| as 1/(1+e) for x >= 0 and e/(1+e) for x < 0,
//            so no exponential overflows: sigmoid(+-100) is exactly 1 and 3.7e-44, never NaN
//   Tanh:    y = tanh(x)                  (MathF.Tanh: tanhf on CUDA, tanh on OpenCL; exactly +-1 for |x| >= 9.1,
//                                          where the true value rounds to +-1, whatever the library does)
//   ReluBackward, with f the forward input and R = dy:
//     Gradient  (TF ReluGrad, saliency): dx = f > 0 ? R : 0
//     Deconvnet (Zeiler & Fergus):       dx = R > 0 ? R : 0
//     Guided    (Springenberg et al.):   dx = f > 0 && R > 0 ? R : 0
//   SigmoidBackward: dx = dy * y * (1 - y);  TanhBackward: dx = dy * (1 - y * y)   (y the forward output)
// One thread per element (implicitly grouped), coalesced; outputs may alias inputs.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>ReLU, sigmoid and tanh with their backward passes; outputs may alias inputs.</summary>
public static class Activations
{
    /// <summary>y = max(x, 0) elementwise (NaN stays NaN).</summary>
    /// <exception cref="ArgumentException">The shapes differ, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void Relu(AcceleratorStream stream, TensorView<float> x, TensorView<float> y)
    {
        if (HostRoute.Of(stream) is { } cpu)
        {
            int n = Elementwise.Unary(stream, "Activations.Relu", x, "x", y, "y");
            if (n > 0) HostOps.Relu(cpu, x.Data, y.Data, n);
            return;
        }
        Pointwise(stream, "Activations.Relu", ReluKernel, x, y);
    }

    /// <summary>y = 1 / (1 + exp(-x)) elementwise, computed without overflow for any |x|.</summary>
    /// <exception cref="ArgumentException">The shapes differ, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void Sigmoid(AcceleratorStream stream, TensorView<float> x, TensorView<float> y) =>
        Pointwise(stream, "Activations.Sigmoid", SigmoidKernel, x, y);

    /// <summary>y = tanh(x) elementwise.</summary>
    /// <exception cref="ArgumentException">The shapes differ, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void Tanh(AcceleratorStream stream, TensorView<float> x, TensorView<float> y) =>
        Pointwise(stream, "Activations.Tanh", TanhKernel, x, y);

    /// <summary>inputGrad = outputGrad passed through a ReLU whose input was <paramref name="forwardInput"/>, by <paramref name="rule"/>.</summary>
    /// <exception cref="ArgumentException">The shapes differ, the rule is unknown, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void ReluBackward(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<float> forwardInput, TensorView<float> inputGrad,
        ReluBackwardRule rule = ReluBackwardRule.Gradient)
    {
        const string op = "Activations.ReluBackward";
        if (rule is not (ReluBackwardRule.Gradient or ReluBackwardRule.Deconvnet or ReluBackwardRule.Guided))
            throw new ArgumentException($"{op}: rule {(int)rule} is not one of Gradient, Deconvnet, Guided.", nameof(rule));
        int n = Check(stream, op, outputGrad, "forwardInput", forwardInput, inputGrad);
        if (n == 0) return;
        if (HostRoute.Of(stream) is { } cpu)
        {
            HostOps.ReluBackward(cpu, outputGrad.Data, forwardInput.Data, inputGrad.Data, n, (int)rule);
            return;
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ReluBackwardKernel)(
            stream, n, outputGrad.Data, forwardInput.Data, inputGrad.Data, (int)rule);
    }

    /// <summary>inputGrad = outputGrad * y * (1 - y), where y = sigmoid(x) is the forward output.</summary>
    /// <exception cref="ArgumentException">The shapes differ, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void SigmoidBackward(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<float> forwardOutput, TensorView<float> inputGrad)
    {
        int n = Check(stream, "Activations.SigmoidBackward", outputGrad, "forwardOutput", forwardOutput, inputGrad);
        if (n == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SigmoidBackwardKernel)(
            stream, n, outputGrad.Data, forwardOutput.Data, inputGrad.Data);
    }

    /// <summary>inputGrad = outputGrad * (1 - y * y), where y = tanh(x) is the forward output.</summary>
    /// <exception cref="ArgumentException">The shapes differ, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void TanhBackward(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<float> forwardOutput, TensorView<float> inputGrad)
    {
        int n = Check(stream, "Activations.TanhBackward", outputGrad, "forwardOutput", forwardOutput, inputGrad);
        if (n == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(TanhBackwardKernel)(
            stream, n, outputGrad.Data, forwardOutput.Data, inputGrad.Data);
    }

    /// <summary>y = x &lt; 0 ? 0 : x (NaN and -0 pass through, as Eigen's max(x, 0) does).</summary>
    [Kernel]
    public static void ReluKernel(Index1D i, ArrayView<float> x, ArrayView<float> y)
    {
        float v = x[i];
        y[i] = v < 0f ? 0f : v;
    }

    /// <summary>y = sigmoid(x) from e = exp(-|x|), which lies in (0, 1], so nothing overflows.</summary>
    [Kernel]
    public static void SigmoidKernel(Index1D i, ArrayView<float> x, ArrayView<float> y)
    {
        float v = x[i];
        float e = MathF.Exp(-MathF.Abs(v));
        y[i] = v >= 0f ? 1f / (1f + e) : e / (1f + e);
    }

    /// <summary>y = tanh(x), exactly +-1 from |x| = 9.1 on.</summary>
    [Kernel]
    public static void TanhKernel(Index1D i, ArrayView<float> x, ArrayView<float> y)
    {
        float v = x[i];
        // tanh(x) = 1 - 2e^-2x + ... rounds to 1 in float for x > 9.01; pocl's tanh returns 1 - 2^-24 out there,
        // which would leave TanhBackward a spurious 1.2e-7 gradient through saturated units.
        y[i] = v >= 9.1f ? 1f : v <= -9.1f ? -1f : MathF.Tanh(v);
    }

    /// <summary>dx by the rule (0 Gradient, 1 Deconvnet, 2 Guided); the signal passes unchanged or becomes 0.</summary>
    public static void ReluBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> f, ArrayView<float> dx, int rule)
    {
        float r = dy[i];
        bool open = rule == 1 ? r > 0f : f[i] > 0f;
        if (rule == 2) open = open && r > 0f;
        dx[i] = open ? r : 0f;
    }

    /// <summary>dx = dy * y * (1 - y) (TF's SigmoidGrad, in its order).</summary>
    public static void SigmoidBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> y, ArrayView<float> dx)
    {
        float v = y[i];
        dx[i] = dy[i] * v * (1f - v);
    }

    /// <summary>dx = dy * (1 - y * y) (TF's TanhGrad).</summary>
    public static void TanhBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> y, ArrayView<float> dx)
    {
        float v = y[i];
        dx[i] = dy[i] * (1f - v * v);
    }

    private static void Pointwise(AcceleratorStream stream, string op, Action<Index1D, ArrayView<float>, ArrayView<float>> kernel, TensorView<float> x, TensorView<float> y)
    {
        int n = Elementwise.Unary(stream, op, x, "x", y, "y");
        if (n == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(kernel)(stream, n, x.Data, y.Data);
    }

    private static int Check(AcceleratorStream stream, string op, TensorView<float> outputGrad, string forwardName, TensorView<float> forward, TensorView<float> inputGrad)
    {
        int n = Elementwise.Unary(stream, op, outputGrad, "outputGrad", inputGrad, "inputGrad");
        ShapeCheck.View(op, forwardName, forward);
        ShapeCheck.Equal(op, forwardName, forward.Shape, outputGrad.Shape, "the same shape as outputGrad");
        ShapeCheck.SameAccelerator(op, stream, forwardName, forward);
        return n;
    }
}
