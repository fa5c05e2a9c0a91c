using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using GpuDeconv.Kernels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

/// <summary>
/// Checks one Functional op end to end: its forward against a double-precision plain-loop reference, and the
/// autograd gradient of <c>sum(upstream * op(inputs))</c> for every input against central finite differences of
/// that reference (the upstream tensor is seeded random, so every output element is weighted differently).
/// </summary>
public static class GradientCheck
{
    /// <summary>One float input of the op: its data and shape.</summary>
    public readonly record struct Input(float[] Data, Shape Shape);

    /// <summary>Runs the check; the op receives tensors that require gradients, in the order of <paramref name="inputs"/>.</summary>
    public static void Run(Accelerator accelerator, string what, Func<Tensor[], Tensor> op, Func<double[][], double[]> reference,
        Input[] inputs, double forwardTolerance = 1e-4, double gradientTolerance = 1e-3, double step = 1e-3, int seed = 99)
    {
        using var scope = new TensorScope();
        var tensors = Array.ConvertAll(inputs, i => Tensor.FromArray(accelerator, i.Data, i.Shape, requiresGrad: true));
        var output = op(tensors);
        var x = Array.ConvertAll(inputs, i => FiniteDifference.ToDouble(i.Data));
        Check.Close(reference(x), FiniteDifference.ToDouble(output.ToArray()), forwardTolerance, forwardTolerance, $"{what} forward {output.Shape}");

        float[] upstream = TestData.Uniform(seed, output.Size);
        var weighted = Functional.ReduceSum(Functional.Multiply(output, Tensor.FromArray(accelerator, upstream, output.Shape)));
        weighted.Backward();
        var weights = FiniteDifference.ToDouble(upstream);
        for (int k = 0; k < inputs.Length; k++)
        {
            int which = k;
            double[] numeric = FiniteDifference.Gradient(probe =>
            {
                var probed = (double[][])x.Clone();
                probed[which] = probe;
                return reference(probed);
            }, x[which], weights, step);
            var grad = tensors[which].Grad ?? throw new InvalidOperationException($"{what}: input {which} {inputs[which].Shape} got no gradient.");
            Assert.Equal(inputs[which].Shape, grad.Shape);
            Check.Close(numeric, FiniteDifference.ToDouble(grad.ToArray()), gradientTolerance, gradientTolerance, $"{what} gradient of input {which} {inputs[which].Shape}");
        }
    }

    /// <summary>Shorthand for an input.</summary>
    public static Input In(float[] data, Shape shape) => new(data, shape);
}
