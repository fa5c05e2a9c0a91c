using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using TutorialModels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

/// <summary>
/// ILGPU's CPU accelerator runs the ILGPU twins of the GPU-shaped kernels as .NET code; our CPU accelerator, told to take
/// the GPU-shaped variants (<see cref="CPUDevice.GpuShapedKernels"/>), runs the same kernels from the same source. Every
/// kernel sums in a fixed order and neither side contracts multiply-adds, so the two must agree bit for bit: a
/// difference means a twin drifted from its kernel (or a launch changed what a lane computes).
/// </summary>
public sealed class IlgpuBitIdentityTests
{
    private static readonly Lazy<(Context Context, Accelerator Accelerator)> GpuShapedCpu = new(() =>
    {
        var context = Context.Create(b => b.CPU());
        return (context, new CPUDevice(gpuShapedKernels: true).CreateAccelerator(context));
    });

    private static Accelerator Reference => GpuShapedCpu.Value.Accelerator;

    [Fact]
    public void TheGpuShapedCpuDeviceSaysSoAndPicksGpuKernels()
    {
        Assert.False(Reference.Device.RunsHostKernels);
        Assert.Contains("GPU-shaped kernels", Reference.Device.Name, StringComparison.Ordinal);
        Assert.True(TestAccelerators.Cpu.Device.RunsHostKernels);
    }

    [Fact]
    public void ThreeAdamStepsOfATinyCnnGiveTheSameParametersBitForBit()
    {
        var ilgpu = TestAccelerators.Get("ilgpu-cpu");
        var expected = Train(Reference);
        var actual = Train(ilgpu);
        foreach (var (name, values) in expected)
            AssertSameBits(values, actual[name], $"{name} after 3 Adam steps");
    }

    [Fact]
    public void TheDeconvnetPathGivesTheSameBits()
    {
        var ilgpu = TestAccelerators.Get("ilgpu-cpu");
        var expected = Deconv(Reference);
        var actual = Deconv(ilgpu);
        foreach (var (name, values) in expected)
            AssertSameBits(values, actual[name], name);
    }

    private static Dictionary<string, float[]> Train(Accelerator accelerator)
    {
        using var scope = new TensorScope();
        var (images, labels) = Batch(accelerator);
        var model = new TinyCnn(accelerator, seed: 5);
        using var adam = new AdamOptimizer(model, learningRate: 0.01f);
        var result = new Dictionary<string, float[]>();
        for (int step = 0; step < 3; step++)
        {
            using var stepScope = new TensorScope();
            adam.ZeroGrad();
            var loss = Functional.SoftmaxCrossEntropy(model.Forward(images), labels);
            loss.Backward();
            result[$"loss {step}"] = loss.ToArray();
            adam.Step();
        }
        foreach (var (name, parameter) in model.NamedParameters())
        {
            result[name] = parameter.ToArray();
            result[$"{name} gradient"] = parameter.Grad!.ToArray();
        }
        return result;
    }

    // Argmax pooling, unpooling by the switches, conv2d_transpose (forward and both gradients), sigmoid, a strided and a
    // dilated convolution: the deconvnet's ops beyond the training step above.
    private static Dictionary<string, float[]> Deconv(Accelerator accelerator)
    {
        using var scope = new TensorScope();
        var x = Tensor.FromArray(accelerator, Values(2 * 9 * 9 * 3, 0.9f), new Shape(2, 9, 9, 3), requiresGrad: true);
        var filter = Tensor.FromArray(accelerator, Values(3 * 3 * 3 * 5, 0.4f), new Shape(3, 3, 3, 5), requiresGrad: true);
        var strided = Functional.Conv2d(x, filter, stride: new Size2d(2, 2), padding: Padding.Valid);
        var dilated = Functional.Sigmoid(Functional.Conv2d(x, filter, dilation: new Size2d(2, 2)));
        var (pooled, argmax) = Functional.MaxPoolWithArgmax(Functional.Relu(dilated), new Size2d(3, 3), new Size2d(2, 2));
        var unpooled = Functional.Unpool(pooled, argmax, dilated.Shape);
        var back = Functional.Conv2dTranspose(unpooled, filter, x.Shape);
        var loss = Functional.Add(Functional.L2Loss(back), Functional.L2Loss(strided));
        loss.Backward();
        return new()
        {
            ["strided conv"] = strided.ToArray(),
            ["dilated conv + sigmoid"] = dilated.ToArray(),
            ["argmax pool"] = pooled.ToArray(),
            ["unpool"] = unpooled.ToArray(),
            ["conv2d_transpose"] = back.ToArray(),
            ["input gradient"] = x.Grad!.ToArray(),
            ["filter gradient"] = filter.Grad!.ToArray(),
        };
    }

    private static (Tensor Images, Tensor Labels) Batch(Accelerator accelerator)
    {
        int[] labels = [.. Enumerable.Range(0, 6).Select(n => n % 2)];
        return (Tensor.FromArray(accelerator, Values(6 * 8 * 8, 1f), new Shape(6, 8, 8, 1)), Tensor.FromArray(accelerator, labels, new Shape(6)));
    }

    // Deterministic values with every mantissa bit in use.
    private static float[] Values(int count, float scale) => [.. Enumerable.Range(0, count).Select(i => MathF.Sin(i * 1.37f + 0.3f) * scale)];

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {expected[i]:R} on the CPU accelerator (GPU-shaped kernels) but {actual[i]:R} on ilgpu-cpu; " +
                            $"{expected.Zip(actual).Count(p => BitConverter.SingleToInt32Bits(p.First) != BitConverter.SingleToInt32Bits(p.Second))} of {expected.Length} elements differ.");
    }
}
