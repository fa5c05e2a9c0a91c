// Sgd: one fused update over a flat parameter tensor, tf.train.MomentumOptimizer (TF's ApplyMomentum kernel) and
// tf.train.GradientDescentOptimizer (ApplyGradientDescent).
//   parameter, gradient, velocity: any shape, all the same (element-wise; the shape is only checked)
//   momentum:  accum = accum * momentum + grad;  var -= accum * lr
//   nesterov:  accum = accum * momentum + grad;  var -= grad * lr + accum * momentum * lr
//   plain:     var -= grad * lr
// The float expressions are TF's (training_ops.cc) in TF's order, so results match TF's CPU kernel bit for bit.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Stochastic gradient descent updates, with and without (Nesterov) momentum, as TensorFlow applies them.</summary>
public static class Sgd
{
    /// <summary>
    /// One momentum step in place (<c>tf.train.MomentumOptimizer</c>): <c>velocity = momentum * velocity + gradient</c>,
    /// then <c>parameter -= learningRate * velocity</c>, or with <paramref name="nesterov"/>
    /// <c>parameter -= learningRate * gradient + learningRate * momentum * velocity</c>. With momentum 0 this is plain SGD.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ, a view belongs to another accelerator, the learning rate is
    /// negative or not finite, or the momentum is negative or not finite.</exception>
    public static void Step(AcceleratorStream stream, TensorView<float> parameter, TensorView<float> gradient, TensorView<float> velocity,
                            float learningRate, float momentum, bool nesterov = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const string op = "Sgd";
        CheckParameters(op, stream, parameter, gradient, learningRate);
        ShapeCheck.View(op, nameof(velocity), velocity);
        ShapeCheck.SameAccelerator(op, stream, nameof(velocity), velocity);
        ShapeCheck.Equal(op, nameof(velocity), velocity.Shape, parameter.Shape, "the shape of parameter");
        if (!float.IsFinite(momentum) || momentum < 0f)
            throw new ArgumentException($"{op}: momentum is {momentum}; it must be finite and zero or positive.", nameof(momentum));
        if (parameter.Shape.Size == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, bool>(MomentumKernel)(
            stream, (int)parameter.Shape.Size, parameter.Data, gradient.Data, velocity.Data, learningRate, momentum, nesterov);
    }

    /// <summary>One plain gradient-descent step in place (<c>tf.train.GradientDescentOptimizer</c>): <c>parameter -= learningRate * gradient</c>.</summary>
    /// <exception cref="ArgumentException">The shapes differ, a view belongs to another accelerator, or the learning rate is negative or not finite.</exception>
    public static void Step(AcceleratorStream stream, TensorView<float> parameter, TensorView<float> gradient, float learningRate)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckParameters("Sgd", stream, parameter, gradient, learningRate);
        if (parameter.Shape.Size == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, float>(GradientDescentKernel)(
            stream, (int)parameter.Shape.Size, parameter.Data, gradient.Data, learningRate);
    }

    /// <summary>TF ApplyMomentum for one element.</summary>
    public static void MomentumKernel(Index1D i, ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> velocity,
                                      float learningRate, float momentum, bool nesterov)
    {
        float g = gradient[i];
        float accum = velocity[i] * momentum + g;
        velocity[i] = accum;
        if (nesterov)
            parameter[i] -= g * learningRate + accum * momentum * learningRate;
        else
            parameter[i] -= accum * learningRate;
    }

    /// <summary>TF ApplyGradientDescent for one element.</summary>
    public static void GradientDescentKernel(Index1D i, ArrayView<float> parameter, ArrayView<float> gradient, float learningRate)
    {
        parameter[i] -= gradient[i] * learningRate;
    }

    /// <summary>The checks shared by every optimizer: parameter and gradient agree, live on the stream's accelerator, lr is usable.</summary>
    internal static void CheckParameters(string op, AcceleratorStream stream, TensorView<float> parameter, TensorView<float> gradient, float learningRate)
    {
        ShapeCheck.View(op, nameof(parameter), parameter);
        ShapeCheck.View(op, nameof(gradient), gradient);
        ShapeCheck.SameAccelerator(op, stream, nameof(parameter), parameter);
        ShapeCheck.SameAccelerator(op, stream, nameof(gradient), gradient);
        ShapeCheck.Equal(op, nameof(gradient), gradient.Shape, parameter.Shape, "the shape of parameter");
        if (parameter.Shape.Size > int.MaxValue)
            throw new ArgumentException($"{op}: parameter {parameter.Shape} has {parameter.Shape.Size} elements; at most {int.MaxValue} per update.", nameof(parameter));
        if (!float.IsFinite(learningRate) || learningRate < 0f)
            throw new ArgumentException($"{op}: learningRate is {learningRate}; it must be finite and zero or positive.", nameof(learningRate));
    }
}
