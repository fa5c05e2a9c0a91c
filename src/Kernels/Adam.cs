// Adam: one fused update over a flat parameter tensor, tf.train.AdamOptimizer (TF's ApplyAdam kernel, no Nesterov).
//   parameter, gradient, m, v: any shape, all the same (element-wise; the shape is only checked)
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)           (Kingma & Ba 2015, section 2; computed on the host in double)
//   m += (g - m) * (1 - beta1)                               (= beta1 * m + (1 - beta1) * g)
//   v += (g * g - v) * (1 - beta2)                           (= beta2 * v + (1 - beta2) * g^2)
//   var -= (m * lr_t) / (sqrt(v) + epsilon)
// The update lines are TF's (training_ops.cc ApplyAdam) in TF's order; "epsilon hat" sits outside the sqrt as in TF.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>The Adam optimizer update as <c>tf.train.AdamOptimizer</c> applies it.</summary>
public static class Adam
{
    /// <summary>
    /// Adam step <paramref name="step"/> (t, counted from 1) in place: updates the moment estimates <paramref name="m"/> and
    /// <paramref name="v"/> and moves <paramref name="parameter"/> by <c>lr_t * m / (sqrt(v) + epsilon)</c>, with
    /// <c>lr_t = learningRate * sqrt(1 - beta2^t) / (1 - beta1^t)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ, a view belongs to another accelerator, the learning rate is negative
    /// or not finite, step is below 1, a beta is outside [0, 1), or epsilon is negative or not finite.</exception>
    public static void Step(AcceleratorStream stream, TensorView<float> parameter, TensorView<float> gradient, TensorView<float> m, TensorView<float> v,
                            float learningRate, int step, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    {
        ArgumentNullException.ThrowIfNull(stream);
        const string op = "Adam";
        Sgd.CheckParameters(op, stream, parameter, gradient, learningRate);
        ShapeCheck.View(op, nameof(m), m);
        ShapeCheck.View(op, nameof(v), v);
        ShapeCheck.SameAccelerator(op, stream, nameof(m), m);
        ShapeCheck.SameAccelerator(op, stream, nameof(v), v);
        ShapeCheck.Equal(op, nameof(m), m.Shape, parameter.Shape, "the shape of parameter");
        ShapeCheck.Equal(op, nameof(v), v.Shape, parameter.Shape, "the shape of parameter");
        if (step < 1)
            throw new ArgumentException($"{op}: step is {step}; Adam counts steps from 1 (the bias correction divides by 1 - beta1^step).", nameof(step));
        if (!(beta1 >= 0f && beta1 < 1f))
            throw new ArgumentException($"{op}: beta1 is {beta1}; it must lie in [0, 1).", nameof(beta1));
        if (!(beta2 >= 0f && beta2 < 1f))
            throw new ArgumentException($"{op}: beta2 is {beta2}; it must lie in [0, 1).", nameof(beta2));
        if (!float.IsFinite(epsilon) || epsilon < 0f)
            throw new ArgumentException($"{op}: epsilon is {epsilon}; it must be finite and zero or positive.", nameof(epsilon));
        if (parameter.Shape.Size == 0) return;

        float learningRateT = (float)(learningRate * Math.Sqrt(1 - Math.Pow(beta2, step)) / (1 - Math.Pow(beta1, step)));
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, float, float>(AdamKernel)(
            stream, (int)parameter.Shape.Size, parameter.Data, gradient.Data, m.Data, v.Data, learningRateT, beta1, beta2, epsilon);
    }

    /// <summary>TF ApplyAdam for one element, with the bias-corrected learning rate already folded in.</summary>
    public static void AdamKernel(Index1D i, ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> m, ArrayView<float> v,
                                  float learningRateT, float beta1, float beta2, float epsilon)
    {
        float g = gradient[i];
        float mi = m[i];
        float vi = v[i];
        mi += (g - mi) * (1f - beta1);
        vi += (g * g - vi) * (1f - beta2);
        m[i] = mi;
        v[i] = vi;
        parameter[i] -= mi * learningRateT / (MathF.Sqrt(vi) + epsilon);
    }
}
