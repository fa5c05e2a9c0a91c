using GpuDeconv.Kernels;
using KernelConv2d = GpuDeconv.Kernels.Conv2dKernels;
using KernelConv2dTranspose = GpuDeconv.Kernels.Conv2dTranspose;
using KernelMaxPoolWithArgmax = GpuDeconv.Kernels.MaxPoolWithArgmax;
using KernelUnpool = GpuDeconv.Kernels.Unpool;
using KernelMaxPool = GpuDeconv.Kernels.MaxPool;
using KernelAvgPool = GpuDeconv.Kernels.AvgPool;
using KernelSoftmax = GpuDeconv.Kernels.Softmax;
using KernelSoftmaxCrossEntropy = GpuDeconv.Kernels.SoftmaxCrossEntropy;
using KernelL2Loss = GpuDeconv.Kernels.L2Loss;
using KernelConcat = GpuDeconv.Kernels.Concat;
using KernelBiasAdd = GpuDeconv.Kernels.BiasAdd;

namespace GpuDeconv.Layers;

/// <summary>
/// The ops of <c>tf.nn</c> (and the few tf.* ops the tutorials use) on <see cref="Tensor"/>s, in .NET casing. Each
/// runs the kernels of <c>GpuDeconv.Kernels</c> on the tensors' accelerator and records its backward (the kernels'
/// backward) for autograd. Sizes and strides take an int or a (height, width) pair; shapes follow TensorFlow.
/// </summary>
public static partial class Functional
{
    // ---- convolution ------------------------------------------------------------------------------------------

    /// <summary>
    /// tf.nn.conv2d (NHWC input, HWIO filter), plus an optional bias added per output channel. A <c>filterCache</c> keeps
    /// what the CPU accelerator derives from a filter whose values do not change (an inference model's weights) for the
    /// next calls (see <see cref="GpuDeconv.Kernels.Conv2dFilterCache"/>); gradients flow as without it.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// Shapes, dtypes or accelerators do not fit (the message names the op, the shapes and the rule), or a filter cache is
    /// given for a filter that requires a gradient (one being trained changes its values).
    /// </exception>
    public static Tensor Conv2d(Tensor input, Tensor filter, Size2d? stride = null, Padding padding = Padding.Same, Size2d? dilation = null, Tensor? bias = null,
                                Conv2dFilterCache? filterCache = null)
    {
        if (filterCache is not null && filter.RequiresGrad)
            throw new ArgumentException($"Conv2d: a filter cache keeps values derived from the filter {filter.Shape}, but the filter requires a gradient " +
                "(it is being trained, so its values change); pass no cache for it.", nameof(filterCache));
        return Convolve("Conv2d", input, filter, stride, padding, dilation, bias, relu: false, filterCache);
    }

    /// <summary>
    /// relu(tf.nn.conv2d(input, filter) + bias) as one op: the same values and gradients as <see cref="Relu"/> of
    /// <see cref="Conv2d"/>, but the pre-activation is overwritten in place, so a training step does not keep it
    /// (PyTorch frees it when nothing refers to it; here the step's scope would hold it to the end). The backward
    /// pass masks by the output (y &gt; 0 exactly where the pre-activation is &gt; 0).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes, dtypes or accelerators do not fit (the message names the op, the shapes and the rule).</exception>
    public static Tensor Conv2dRelu(Tensor input, Tensor filter, Size2d? stride = null, Padding padding = Padding.Same, Size2d? dilation = null, Tensor? bias = null) =>
        Convolve("Conv2dRelu", input, filter, stride, padding, dilation, bias, relu: true);

    private static Tensor Convolve(string op, Tensor input, Tensor filter, Size2d? stride, Padding padding, Size2d? dilation, Tensor? bias, bool relu,
                                   Conv2dFilterCache? filterCache = null)
    {
        var options = new Conv2dOptions(stride ?? 1, padding, dilation ?? 1);
        var output = ConvolveForward(op, input, filter, bias, options, relu, filterCache);
        return Autograd.Record(output, ConvolutionParents(input, filter, bias), grad =>
        {
            // The backward pass owns grad alone (Tensor.Backward), so the ReLU masks it in place.
            if (relu) Activations.ReluBackward(input.Stream, grad.View, output.View, grad.View, ReluBackwardRule.Gradient);
            return ConvolutionGradients(input, filter, bias, options, grad);
        });
    }

    /// <summary>
    /// relu(tf.nn.conv2d(input, filter) + bias) followed by tf.nn.max_pool_with_argmax, as one op: the same values,
    /// switches and gradients as <see cref="MaxPoolWithArgmax"/> of <see cref="Conv2dRelu"/>, but the convolution's
    /// output, the largest tensor of a CNN block, is freed as soon as it is pooled instead of living through the step.
    /// </summary>
    /// <remarks>
    /// The backward pass needs no pre-pool activations: a switch points at the cell its pooled value came from, so
    /// the ReLU's mask (activation &gt; 0) at every cell that gets a gradient is the pooled value &gt; 0. It masks the
    /// pooled gradient, scatters it through the switches and runs the convolution's backward. A cell that no switch
    /// points at gets 0 in both orders, so the gradients are bit for bit those of the unfused ops.
    /// </remarks>
    /// <exception cref="ArgumentException">Shapes, dtypes or accelerators do not fit, or the window does not fit the convolution's output.</exception>
    public static (Tensor Values, Tensor Argmax) Conv2dReluMaxPool(Tensor input, Tensor filter, Tensor? bias, Conv2dOptions convolution, PoolOptions pool, bool includeBatchInIndex = false)
    {
        var (values, argmax, _) = ConvolveReluPool(input, filter, bias, convolution, pool, includeBatchInIndex, keepActivations: false);
        return (values, argmax);
    }

    /// <summary><see cref="Conv2dReluMaxPool"/>, also handing out the pre-pool activations when <paramref name="keepActivations"/> (a <see cref="ForwardTrace"/> needs them).</summary>
    internal static (Tensor Values, Tensor Argmax, Tensor? Activations) ConvolveReluPool(Tensor input, Tensor filter, Tensor? bias, Conv2dOptions convolution, PoolOptions pool,
        bool includeBatchInIndex, bool keepActivations)
    {
        var activations = ConvolveForward("Conv2dReluMaxPool", input, filter, bias, convolution, relu: true);
        Shape shape;
        try
        {
            shape = KernelMaxPoolWithArgmax.OutputShape(activations.Shape, pool);
        }
        catch (ArgumentException e)
        {
            activations.Dispose();
            throw new ArgumentException($"Conv2dReluMaxPool: the pooling window does not fit the convolution's output {activations.Shape}. {e.Message}", nameof(pool), e);
        }
        var values = Tensor.Empty(input.Accelerator, shape);
        var argmax = Tensor.Empty(input.Accelerator, shape, DType.Int64);
        KernelMaxPoolWithArgmax.Forward(input.Stream, activations.View, values.View, argmax.LongView, pool, includeBatchInIndex);
        var activationShape = activations.Shape;
        // The pooling kernel queued on the stream reads the block first: the stream runs in order.
        if (!keepActivations) activations.Dispose();
        Autograd.Record(values, ConvolutionParents(input, filter, bias), grad =>
        {
            Activations.ReluBackward(input.Stream, grad.View, values.View, grad.View, ReluBackwardRule.Gradient);
            using var activationGrad = Tensor.Empty(input.Accelerator, activationShape);
            KernelMaxPoolWithArgmax.Backward(input.Stream, grad.View, argmax.LongView, activationGrad.View, pool, includeBatchInIndex);
            return ConvolutionGradients(input, filter, bias, convolution, activationGrad);
        });
        return (values, argmax, keepActivations ? activations : null);
    }

    // Checks the operands and runs conv2d (+ bias) and, when asked, the ReLU in place.
    private static Tensor ConvolveForward(string op, Tensor input, Tensor filter, Tensor? bias, Conv2dOptions options, bool relu,
                                          Conv2dFilterCache? filterCache = null)
    {
        RequireFloat(op, (nameof(input), input), (nameof(filter), filter));
        RequireSameAccelerator(op, (nameof(input), input), (nameof(filter), filter));
        if (bias is not null)
        {
            RequireFloat(op, (nameof(bias), bias));
            RequireSameAccelerator(op, (nameof(input), input), (nameof(bias), bias));
        }
        var output = Tensor.Empty(input.Accelerator, KernelConv2d.OutputShape(input.Shape, filter.Shape, options));
        KernelConv2d.Forward(input.Stream, input.View, filter.View, output.View, options, bias?.View, filterCache: filterCache);
        if (relu) Activations.Relu(input.Stream, output.View, output.View);
        return output;
    }

    private static Tensor[] ConvolutionParents(Tensor input, Tensor filter, Tensor? bias) => bias is null ? [input, filter] : [input, filter, bias];

    // The gradients of conv2d (+ bias) for the gradient of its output, in ConvolutionParents' order.
    private static Tensor?[] ConvolutionGradients(Tensor input, Tensor filter, Tensor? bias, Conv2dOptions options, Tensor grad)
    {
        var dx = GradientOf(input, g => KernelConv2d.BackwardInput(input.Stream, grad.View, filter.View, g.View, options));
        var dw = GradientOf(filter, g => KernelConv2d.BackwardFilter(input.Stream, input.View, grad.View, g.View, options));
        if (bias is null) return [dx, dw];
        return [dx, dw, GradientOf(bias, g => KernelBiasAdd.BackwardBias(input.Stream, grad.View, g.View))];
    }

    // A gradient for tensor, filled by compute, when the tensor requires one; else null.
    private static Tensor? GradientOf(Tensor tensor, Action<Tensor> compute)
    {
        if (!tensor.RequiresGrad) return null;
        var gradient = Tensor.Empty(tensor.Accelerator, tensor.Shape);
        compute(gradient);
        return gradient;
    }

    /// <summary>tf.nn.conv2d_transpose: the input gradient of a conv2d with this filter ([KH, KW, out, in]) whose input shape is <paramref name="outputShape"/>.</summary>
    /// <exception cref="ArgumentException">The output shape is not one TF accepts for this value, kernel, stride and padding (the message says which would be), or other shapes do not fit.</exception>
    public static Tensor Conv2dTranspose(Tensor value, Tensor filter, Shape outputShape, Size2d? stride = null, Padding padding = Padding.Same, Size2d? dilation = null)
    {
        const string op = "Conv2dTranspose";
        RequireFloat(op, (nameof(value), value), (nameof(filter), filter));
        RequireSameAccelerator(op, (nameof(value), value), (nameof(filter), filter));
        ArgumentNullException.ThrowIfNull(outputShape);
        var options = new Conv2dOptions(stride ?? 1, padding, dilation ?? 1);
        KernelConv2dTranspose.CheckShapes(value.Shape, filter.Shape, outputShape, options);
        var output = Tensor.Empty(value.Accelerator, outputShape);
        KernelConv2dTranspose.Forward(value.Stream, value.View, filter.View, output.View, options);
        return Autograd.Record(output, [value, filter], grad =>
        [
            GradientOf(value, dv => KernelConv2dTranspose.BackwardValue(value.Stream, grad.View, filter.View, dv.View, options)),
            GradientOf(filter, dw => KernelConv2dTranspose.BackwardFilter(value.Stream, value.View, grad.View, dw.View, options)),
        ]);
    }

    /// <summary>tf.nn.bias_add: adds bias[C] along the last axis.</summary>
    public static Tensor BiasAdd(Tensor input, Tensor bias) => Bias("BiasAdd", input, bias, subtract: false);

    /// <summary>x - bias[C] along the last axis (the deconv tutorial subtracts each layer's bias before its transposed convolution).</summary>
    public static Tensor BiasSubtract(Tensor input, Tensor bias) => Bias("BiasSubtract", input, bias, subtract: true);

    // x ± bias[C]: the gradient passes through to x, and d(bias) is the column sum of the gradient (negated when subtracting).
    private static Tensor Bias(string op, Tensor input, Tensor bias, bool subtract)
    {
        RequireFloat(op, (nameof(input), input), (nameof(bias), bias));
        RequireSameAccelerator(op, (nameof(input), input), (nameof(bias), bias));
        var output = Tensor.Empty(input.Accelerator, input.Shape);
        if (subtract)
            KernelBiasAdd.Subtract(input.Stream, input.View, bias.View, output.View);
        else
            KernelBiasAdd.Forward(input.Stream, input.View, bias.View, output.View);
        return Autograd.Record(output, [input, bias], grad =>
        {
            Tensor? db = null;
            if (bias.RequiresGrad)
            {
                db = Tensor.Empty(bias.Accelerator, bias.Shape);
                KernelBiasAdd.BackwardBias(bias.Stream, grad.View, db.View);
                if (subtract) Elementwise.Scale(bias.Stream, db.View, -1f, db.View);
            }
            return [input.RequiresGrad ? grad.Clone() : null, db];
        });
    }

    // ---- pooling ----------------------------------------------------------------------------------------------

    /// <summary>tf.nn.max_pool_with_argmax: the pooled values and the int64 switches (TF's flat index, with or without the batch term).</summary>
    public static (Tensor Values, Tensor Argmax) MaxPoolWithArgmax(Tensor input, Size2d size, Size2d stride, Padding padding = Padding.Same, bool includeBatchInIndex = false)
    {
        RequireFloat("MaxPoolWithArgmax", (nameof(input), input));
        var options = new PoolOptions(size, stride, padding);
        var shape = KernelMaxPoolWithArgmax.OutputShape(input.Shape, options);
        var values = Tensor.Empty(input.Accelerator, shape);
        var argmax = Tensor.Empty(input.Accelerator, shape, DType.Int64);
        KernelMaxPoolWithArgmax.Forward(input.Stream, input.View, values.View, argmax.LongView, options, includeBatchInIndex);
        Autograd.Record(values, [input], grad =>
        {
            var dx = Tensor.Empty(input.Accelerator, input.Shape);
            KernelMaxPoolWithArgmax.Backward(input.Stream, grad.View, argmax.LongView, dx.View, options, includeBatchInIndex);
            return [dx];
        });
        return (values, argmax);
    }

    /// <summary>
    /// The tutorials' un_max_pool (tf.scatter_nd): zeros of <paramref name="outputShape"/> with each value added at its switch;
    /// duplicate switches sum. <paramref name="indices"/> = TrustedUnique skips validation (switches from non-overlapping pooling).
    /// </summary>
    /// <exception cref="ArgumentException">A switch is out of range (Validate mode), or shapes do not fit.</exception>
    public static Tensor Unpool(Tensor values, Tensor argmax, Shape outputShape, bool includeBatchInIndex = false, UnpoolIndices indices = UnpoolIndices.Validate)
    {
        const string op = "Unpool";
        RequireFloat(op, (nameof(values), values));
        RequireSameAccelerator(op, (nameof(values), values), (nameof(argmax), argmax));
        if (argmax.DType != DType.Int64)
            throw new ArgumentException($"{op}: argmax is Tensor{argmax.Describe()} of {argmax.DType}; expected the Int64 switches of MaxPoolWithArgmax.", nameof(argmax));
        ArgumentNullException.ThrowIfNull(outputShape);
        var output = Tensor.Empty(values.Accelerator, outputShape);
        KernelUnpool.Forward(values.Stream, values.View, argmax.LongView, output.View, includeBatchInIndex, indices);
        return Autograd.Record(output, [values, argmax], grad =>
        {
            var dv = Tensor.Empty(values.Accelerator, values.Shape);
            KernelUnpool.Backward(values.Stream, grad.View, argmax.LongView, dv.View, includeBatchInIndex);
            return [dv, null];
        });
    }

    /// <summary>tf.nn.max_pool.</summary>
    public static Tensor MaxPool(Tensor input, Size2d size, Size2d stride, Padding padding = Padding.Same)
    {
        RequireFloat("MaxPool", (nameof(input), input));
        var options = new PoolOptions(size, stride, padding);
        var output = Tensor.Empty(input.Accelerator, KernelMaxPool.OutputShape(input.Shape, options));
        KernelMaxPool.Forward(input.Stream, input.View, output.View, options);
        return Autograd.Record(output, [input], grad =>
        {
            var dx = Tensor.Empty(input.Accelerator, input.Shape);
            KernelMaxPool.Backward(input.Stream, input.View, grad.View, dx.View, options);
            return [dx];
        });
    }

    /// <summary>tf.nn.avg_pool (SAME divides by the number of real cells).</summary>
    public static Tensor AvgPool(Tensor input, Size2d size, Size2d stride, Padding padding = Padding.Same)
    {
        RequireFloat("AvgPool", (nameof(input), input));
        var options = new PoolOptions(size, stride, padding);
        var output = Tensor.Empty(input.Accelerator, KernelAvgPool.OutputShape(input.Shape, options));
        KernelAvgPool.Forward(input.Stream, input.View, output.View, options);
        return Autograd.Record(output, [input], grad =>
        {
            var dx = Tensor.Empty(input.Accelerator, input.Shape);
            KernelAvgPool.Backward(input.Stream, grad.View, dx.View, options);
            return [dx];
        });
    }

    // ---- activations ------------------------------------------------------------------------------------------

    /// <summary>tf.nn.relu; the backward rule can be the deconvnet's or guided backprop's (docs/reference/op-semantics.md section 4).</summary>
    public static Tensor Relu(Tensor input, ReluBackwardRule backwardRule = ReluBackwardRule.Gradient)
    {
        RequireFloat("Relu", (nameof(input), input));
        var output = Tensor.Empty(input.Accelerator, input.Shape);
        Activations.Relu(input.Stream, input.View, output.View);
        return Autograd.Record(output, [input], grad =>
        {
            // The backward pass owns grad alone (Tensor.Backward), so it is masked in place and handed on.
            Activations.ReluBackward(input.Stream, grad.View, input.View, grad.View, backwardRule);
            return [grad];
        });
    }

    /// <summary>tf.sigmoid.</summary>
    public static Tensor Sigmoid(Tensor input) => SmoothActivation("Sigmoid", input, Activations.Sigmoid, Activations.SigmoidBackward);

    /// <summary>tf.tanh.</summary>
    public static Tensor Tanh(Tensor input) => SmoothActivation("Tanh", input, Activations.Tanh, Activations.TanhBackward);

    // An activation whose gradient is a function of its output (sigmoid: y(1-y), tanh: 1-y^2).
    private static Tensor SmoothActivation(string op, Tensor input,
        Action<Compute.AcceleratorStream, TensorView<float>, TensorView<float>> forward,
        Action<Compute.AcceleratorStream, TensorView<float>, TensorView<float>, TensorView<float>> backwardFromOutput)
    {
        RequireFloat(op, (nameof(input), input));
        var output = Tensor.Empty(input.Accelerator, input.Shape);
        forward(input.Stream, input.View, output.View);
        return Autograd.Record(output, [input], grad =>
        {
            var dx = Tensor.Empty(input.Accelerator, input.Shape);
            backwardFromOutput(input.Stream, grad.View, output.View, dx.View);
            return [dx];
        });
    }

    // ---- arithmetic -------------------------------------------------------------------------------------------

    /// <summary>a + b (same shapes).</summary>
    public static Tensor Add(Tensor a, Tensor b) => Binary("Add", a, b, Elementwise.Add,
        (grad, _, _) => (grad.Clone(), grad.Clone()));

    /// <summary>a - b (same shapes).</summary>
    public static Tensor Subtract(Tensor a, Tensor b) => Binary("Subtract", a, b, Elementwise.Subtract,
        (grad, _, _) => (grad.Clone(), Scale(grad, -1f)));

    /// <summary>a * b elementwise (same shapes).</summary>
    public static Tensor Multiply(Tensor a, Tensor b) => Binary("Multiply", a, b, Elementwise.Multiply,
        (grad, x, y) => (Multiply(grad, y), Multiply(grad, x)));

    /// <summary>a / b elementwise (same shapes; IEEE division).</summary>
    public static Tensor Divide(Tensor a, Tensor b) => Binary("Divide", a, b, Elementwise.Divide,
        (grad, x, y) =>
        {
            // d(x/y)/dx = 1/y; d(x/y)/dy = -x/y^2 = -(grad/y) * (x/y).
            var da = Divide(grad, y);
            using var quotient = Divide(x, y);
            using var product = Multiply(da, quotient);
            return (da, Scale(product, -1f));
        });

    /// <summary>x + value elementwise.</summary>
    public static Tensor AddScalar(Tensor input, float value)
    {
        RequireFloat("AddScalar", (nameof(input), input));
        var output = Tensor.Empty(input.Accelerator, input.Shape);
        Elementwise.AddScalar(input.Stream, input.View, value, output.View);
        return Autograd.Record(output, [input], grad => [grad.Clone()]);
    }

    /// <summary>x / divisor elementwise (a true division, as <c>x / 3f</c> reads; not a product with 1/3).</summary>
    public static Tensor DivideByScalar(Tensor input, float divisor)
    {
        RequireFloat("DivideByScalar", (nameof(input), input));
        var output = Tensor.Empty(input.Accelerator, input.Shape);
        Elementwise.DivideByScalar(input.Stream, input.View, divisor, output.View);
        return Autograd.Record(output, [input], grad => [DivideByScalar(grad, divisor)]);
    }

    /// <summary>dividend / x elementwise.</summary>
    public static Tensor ScalarDivide(float dividend, Tensor input)
    {
        RequireFloat("ScalarDivide", (nameof(input), input));
        var output = Tensor.Empty(input.Accelerator, input.Shape);
        Elementwise.ScalarDivide(input.Stream, dividend, input.View, output.View);
        // d(c/x)/dx = -c/x^2 = -(c/x) / x.
        return Autograd.Record(output, [input], grad =>
        {
            using var quotient = Divide(output, input);
            using var product = Multiply(grad, quotient);
            return [Scale(product, -1f)];
        });
    }

    /// <summary>factor * x.</summary>
    public static Tensor Scale(Tensor input, float factor)
    {
        RequireFloat("Scale", (nameof(input), input));
        var output = Tensor.Empty(input.Accelerator, input.Shape);
        Elementwise.Scale(input.Stream, input.View, factor, output.View);
        return Autograd.Record(output, [input], grad => [Scale(grad, factor)]);
    }

    private static Tensor Binary(string op, Tensor a, Tensor b,
        Action<Compute.AcceleratorStream, TensorView<float>, TensorView<float>, TensorView<float>> kernel,
        Func<Tensor, Tensor, Tensor, (Tensor Da, Tensor Db)> backward)
    {
        RequireFloat(op, (nameof(a), a), (nameof(b), b));
        RequireSameAccelerator(op, (nameof(a), a), (nameof(b), b));
        if (a.Shape != b.Shape)
            throw new ArgumentException($"{op}: a is {a.Shape} but b is {b.Shape}; both must have the same shape (no broadcasting).", nameof(b));
        var output = Tensor.Empty(a.Accelerator, a.Shape);
        kernel(a.Stream, a.View, b.View, output.View);
        return Autograd.Record(output, [a, b], grad =>
        {
            var (da, db) = backward(grad, a, b);
            return [da, db];
        });
    }

    /// <summary>tf.matmul for rank-2 tensors, with optional transposes: op(a) [M, K] times op(b) [K, N].</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transposeA = false, bool transposeB = false)
    {
        const string op = "MatMul";
        RequireFloat(op, (nameof(a), a), (nameof(b), b));
        RequireSameAccelerator(op, (nameof(a), a), (nameof(b), b));
        if (a.Shape.Rank != 2 || b.Shape.Rank != 2)
            throw new ArgumentException($"{op}: a is {a.Shape} and b is {b.Shape}; both must be rank 2.", a.Shape.Rank != 2 ? nameof(a) : nameof(b));
        int m = transposeA ? a.Shape[1] : a.Shape[0];
        int n = transposeB ? b.Shape[0] : b.Shape[1];
        int ka = transposeA ? a.Shape[0] : a.Shape[1], kb = transposeB ? b.Shape[1] : b.Shape[0];
        if (ka != kb)
            throw new ArgumentException($"{op}: a is {a.Shape} (transposeA {transposeA}) and b is {b.Shape} (transposeB {transposeB}); the inner dimensions of op(a) [M, K] and op(b) [K, N] must match, but they are {ka} and {kb}.", nameof(b));
        var output = Tensor.Empty(a.Accelerator, new Shape(m, n));
        Gemm.Multiply(a.Stream, a.View, transposeA, b.View, transposeB, output.View);
        return Autograd.Record(output, [a, b], grad =>
        {
            Tensor? da = null, db = null;
            if (a.RequiresGrad)
            {
                // dA = dC op(B)^T, stored transposed when A was used transposed.
                da = transposeA ? MatMul(b, grad, transposeB, true) : MatMul(grad, b, false, !transposeB);
            }
            if (b.RequiresGrad)
            {
                // dB = op(A)^T dC, stored transposed when B was used transposed.
                db = transposeB ? MatMul(grad, a, true, transposeA) : MatMul(a, grad, !transposeA, false);
            }
            return [da, db];
        });
    }

    // ---- shapes -----------------------------------------------------------------------------------------------

    /// <summary>tf.reshape without copying.</summary>
    public static Tensor Reshape(Tensor input, Shape shape) => input.Reshape(shape);

    /// <summary>tf.concat along <paramref name="axis"/> (negative counts from the end).</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> inputs, int axis)
    {
        const string op = "Concat";
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException($"{op}: needs at least one input.", nameof(inputs));
        for (int i = 0; i < inputs.Count; i++)
        {
            RequireFloat(op, ($"inputs[{i}]", inputs[i]));
            RequireSameAccelerator(op, ("inputs[0]", inputs[0]), ($"inputs[{i}]", inputs[i]));
        }
        int rank = inputs[0].Shape.Rank;
        int normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized >= rank)
            throw new ArgumentException($"{op}: axis {axis} is out of range for rank {rank} inputs ({inputs[0].Shape}); expected [-{rank}, {rank}).", nameof(axis));
        var dims = inputs[0].Shape.Dims;
        dims[normalized] = 0;
        foreach (var input in inputs) dims[normalized] += input.Shape.Rank == rank ? input.Shape[normalized] : 0;
        var output = Tensor.Empty(inputs[0].Accelerator, new Shape(dims));
        var views = new TensorView<float>[inputs.Count];
        for (int i = 0; i < views.Length; i++) views[i] = inputs[i].View;
        KernelConcat.Forward(output.Stream, views, normalized, output.View);
        var parents = inputs.ToArray();
        return Autograd.Record(output, parents, grad =>
        {
            var grads = new Tensor[parents.Length];
            var gradViews = new TensorView<float>[parents.Length];
            for (int i = 0; i < parents.Length; i++)
            {
                grads[i] = Tensor.Empty(parents[i].Accelerator, parents[i].Shape);
                gradViews[i] = grads[i].View;
            }
            KernelConcat.Backward(grad.Stream, grad.View, normalized, gradViews);
            return grads;
        });
    }

    /// <summary>tf.stop_gradient: the same values, cut from the graph.</summary>
    public static Tensor StopGradient(Tensor input) => input.Detach();

    // ---- reductions and losses --------------------------------------------------------------------------------

    /// <summary>tf.reduce_sum over <paramref name="axes"/> (all axes when empty or null).</summary>
    public static Tensor ReduceSum(Tensor input, int[]? axes = null, bool keepDims = false) =>
        Reduce("ReduceSum", input, axes, keepDims, Reductions.Sum, Reductions.SumBackward);

    /// <summary>tf.reduce_mean over <paramref name="axes"/> (all axes when empty or null).</summary>
    public static Tensor ReduceMean(Tensor input, int[]? axes = null, bool keepDims = false) =>
        Reduce("ReduceMean", input, axes, keepDims, Reductions.Mean, Reductions.MeanBackward);

    private delegate void ReduceKernel(Compute.AcceleratorStream s, TensorView<float> x, ReadOnlySpan<int> axes, TensorView<float> output);

    private static Tensor Reduce(string op, Tensor input, int[]? axes, bool keepDims, ReduceKernel forward, ReduceKernel backward)
    {
        RequireFloat(op, (nameof(input), input));
        int[] all = axes is null || axes.Length == 0 ? Enumerable.Range(0, input.Shape.Rank).ToArray() : axes;
        var seen = new bool[input.Shape.Rank];
        foreach (int axis in all)
        {
            int normalized = NormalizeAxis(op, input, axis, nameof(axes));
            if (seen[normalized])
                throw new ArgumentException($"{op}: axes [{string.Join(", ", all)}] name dimension {normalized} of input {input.Shape} twice; each axis may appear once.", nameof(axes));
            seen[normalized] = true;
        }
        var output = Tensor.Empty(input.Accelerator, Reductions.OutputShape(input.Shape, all, keepDims));
        forward(input.Stream, input.View, all, output.View);
        return Autograd.Record(output, [input], grad =>
        {
            var dx = Tensor.Empty(input.Accelerator, input.Shape);
            backward(input.Stream, grad.View, all, dx.View);
            return [dx];
        });
    }

    /// <summary>tf.argmax along <paramref name="axis"/> (first maximum wins); an int64 tensor, not differentiable.</summary>
    public static Tensor Argmax(Tensor input, int axis)
    {
        RequireFloat("Argmax", (nameof(input), input));
        int normalized = NormalizeAxis("Argmax", input, axis, nameof(axis));
        var output = Tensor.Empty(input.Accelerator, Reductions.OutputShape(input.Shape, [normalized], keepDims: false), DType.Int64);
        Reductions.Argmax(input.Stream, input.View, normalized, output.LongView);
        return output;
    }

    /// <summary>tf.nn.softmax over the last axis of [B, K] logits.</summary>
    public static Tensor Softmax(Tensor logits)
    {
        RequireFloat("Softmax", (nameof(logits), logits));
        var output = Tensor.Empty(logits.Accelerator, logits.Shape);
        KernelSoftmax.Forward(logits.Stream, logits.View, output.View);
        // dz = y * (dy - sum(dy * y)) per row.
        return Autograd.Record(output, [logits], grad =>
        {
            var dotRows = ReduceSum(Multiply(grad, output), [1], keepDims: true);
            var broadcast = Tensor.Empty(logits.Accelerator, logits.Shape);
            Reductions.SumBackward(logits.Stream, dotRows.View, [1], broadcast.View);
            return [Multiply(output, Subtract(grad, broadcast))];
        });
    }

    /// <summary>
    /// The batch mean of tf.nn.sparse_softmax_cross_entropy_with_logits (int labels [B]) or, for float labels [B, K], of
    /// tf.nn.softmax_cross_entropy_with_logits: the tutorials' <c>reduce_mean(cross_entropy)</c>, a scalar ready for Backward().
    /// </summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, Tensor labels)
    {
        using var intermediates = TensorScope.ForIntermediates();
        return intermediates.Keep(ReduceMean(SoftmaxCrossEntropyPerExample(logits, labels)));
    }

    /// <summary>Per-example softmax cross entropy [B] of [B, K] logits against int labels [B] or float labels [B, K].</summary>
    public static Tensor SoftmaxCrossEntropyPerExample(Tensor logits, Tensor labels)
    {
        const string op = "SoftmaxCrossEntropy";
        RequireFloat(op, (nameof(logits), logits));
        RequireSameAccelerator(op, (nameof(logits), logits), (nameof(labels), labels));
        if (logits.Shape.Rank != 2)
            throw new ArgumentException($"{op}: logits must be rank 2 [B, K], but they are {logits.Shape}.", nameof(logits));
        var losses = Tensor.Empty(logits.Accelerator, new Shape(logits.Shape[0]));
        bool sparse = labels.DType == DType.Int32;
        if (!sparse && labels.DType != DType.Float32)
            throw new ArgumentException($"{op}: labels hold {labels.DType}; expected Int32 class indices [B] or Float32 probabilities [B, K].", nameof(labels));
        if (sparse) KernelSoftmaxCrossEntropy.Forward(logits.Stream, logits.View, labels.IntView, losses.View);
        else KernelSoftmaxCrossEntropy.Forward(logits.Stream, logits.View, labels.View, losses.View);
        return Autograd.Record(losses, [logits, labels], grad =>
        {
            var dz = Tensor.Empty(logits.Accelerator, logits.Shape);
            if (sparse) KernelSoftmaxCrossEntropy.Backward(logits.Stream, logits.View, labels.IntView, grad.View, dz.View);
            else KernelSoftmaxCrossEntropy.Backward(logits.Stream, logits.View, labels.View, grad.View, dz.View);
            return [dz, null];
        });
    }

    /// <summary>tf.nn.l2_loss: sum(x^2) / 2 as a scalar.</summary>
    public static Tensor L2Loss(Tensor input)
    {
        RequireFloat("L2Loss", (nameof(input), input));
        var output = Tensor.Empty(input.Accelerator, new Shape());
        KernelL2Loss.Forward(input.Stream, input.View, output.View);
        return Autograd.Record(output, [input], grad =>
        {
            var dx = Tensor.Empty(input.Accelerator, input.Shape);
            KernelL2Loss.Backward(input.Stream, grad.View, input.View, dx.View);
            return [dx];
        });
    }

    // ---- checks -----------------------------------------------------------------------------------------------

    private static int NormalizeAxis(string op, Tensor input, int axis, string name)
    {
        int rank = input.Shape.Rank;
        if (axis < -rank || axis >= rank)
            throw new ArgumentException($"{op}: axis {axis} is out of range for input {input.Shape} of rank {rank}; axes must lie in [{-rank}, {rank}).", name);
        return axis < 0 ? axis + rank : axis;
    }

    internal static void RequireFloat(string op, params ReadOnlySpan<(string Name, Tensor Tensor)> tensors)
    {
        foreach (var (name, tensor) in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, name);
            tensor.ThrowIfDisposed();
            if (tensor.DType != DType.Float32)
                throw new ArgumentException($"{op}: {name} is Tensor{tensor.Describe()} of {tensor.DType}; expected Float32.", name);
        }
    }

    internal static void RequireSameAccelerator(string op, params ReadOnlySpan<(string Name, Tensor Tensor)> tensors)
    {
        var (firstName, first) = tensors[0];
        ArgumentNullException.ThrowIfNull(first, firstName);
        foreach (var (name, tensor) in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, name);
            tensor.ThrowIfDisposed();
            if (!ReferenceEquals(tensor.Accelerator, first.Accelerator))
                throw new ArgumentException($"{op}: {firstName} {first.Shape} is on '{first.Accelerator}' but {name} {tensor.Shape} is on '{tensor.Accelerator}'; move one with Tensor.To(accelerator).", name);
        }
    }
}
