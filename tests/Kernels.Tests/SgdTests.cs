using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Sgd against host references over several steps: TF's float expressions in TF's order (training_ops.cc ApplyMomentum,
// ApplyGradientDescent) must match bit for bit, and the textbook formulas in double within |a - e| <= 1e-6 + 1e-5 |e|.
public sealed class SgdTests
{
    private const int Count = 1031;   // not a multiple of any group size
    private const int Steps = 4;

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void MomentumMatchesTensorFlowOverSeveralSteps(string accelerator)
    {
        foreach (bool nesterov in new[] { false, true })
        {
            foreach (float momentum in new[] { 0.9f, 0f })
                RunAndCompare(accelerator, momentum, nesterov);
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void PlainStepSubtractsScaledGradient(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        var parameter = Host.Random(1, Count);
        var gradient = Host.Random(2, Count);
        var (pBuffer, p) = Host.Upload(acc, parameter, new Shape(Count));
        var (gBuffer, g) = Host.Upload(acc, gradient, new Shape(Count));
        using (pBuffer) using (gBuffer)
        {
            Sgd.Step(stream, p, g, 0.125f);
            var expected = new float[Count];
            for (int i = 0; i < Count; i++) expected[i] = parameter[i] - gradient[i] * 0.125f;
            Check.Equal<float>(expected, Host.Download(p), $"{accelerator} plain SGD step");
        }
    }

    [Fact]
    public void WorkedMomentumStep()
    {
        // var 1, grad 0.5, accum 2, lr 0.1, momentum 0.9: accum = 2*0.9 + 0.5 = 2.3; var = 1 - 0.23 = 0.77;
        // nesterov: var = 1 - (0.05 + 2.3*0.9*0.1) = 1 - 0.257 = 0.743.
        var acc = TestAccelerators.Cpu;
        foreach (var (nesterov, expected) in new[] { (false, 0.77), (true, 0.743) })
        {
            var (pBuffer, p) = Host.Upload(acc, [1f], new Shape(1));
            var (gBuffer, g) = Host.Upload(acc, [0.5f], new Shape(1));
            var (vBuffer, v) = Host.Upload(acc, [2f], new Shape(1));
            using (pBuffer) using (gBuffer) using (vBuffer)
            {
                Sgd.Step(acc.DefaultStream, p, g, v, 0.1f, 0.9f, nesterov);
                Assert.Equal(2.3, Host.Download(v)[0], 1e-6);
                Assert.Equal(expected, Host.Download(p)[0], 1e-6);
            }
        }
    }

    [Fact]
    public void ErrorsNameOpArgumentAndRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        var (pBuffer, p) = Host.Allocate<float>(acc, new Shape(2, 3));
        var (gBuffer, g) = Host.Allocate<float>(acc, new Shape(3, 2));
        var (vBuffer, v) = Host.Allocate<float>(acc, new Shape(2, 3));
        using (pBuffer) using (gBuffer) using (vBuffer)
        {
            var shape = Assert.Throws<ArgumentException>(() => Sgd.Step(stream, p, g, v, 0.1f, 0.9f));
            Assert.Contains("Sgd", shape.Message);
            Assert.Contains("[2, 3]", shape.Message);
            Assert.Contains("[3, 2]", shape.Message);
            Assert.Contains("the shape of parameter", shape.Message);
            Assert.Equal("gradient", shape.ParamName);

            var velocity = Assert.Throws<ArgumentException>(() => Sgd.Step(stream, p, v, g, 0.1f, 0.9f));
            Assert.Equal("velocity", velocity.ParamName);
            Assert.Contains("[3, 2]", velocity.Message);

            var rate = Assert.Throws<ArgumentException>(() => Sgd.Step(stream, p, v, v, -0.1f, 0.9f));
            Assert.Contains("learningRate is -0.1", rate.Message);
            var momentum = Assert.Throws<ArgumentException>(() => Sgd.Step(stream, p, v, v, 0.1f, float.NaN));
            Assert.Contains("momentum is NaN", momentum.Message);
            Assert.Throws<ArgumentException>(() => Sgd.Step(stream, p, g, float.PositiveInfinity));
        }
    }

    private static void RunAndCompare(string accelerator, float momentum, bool nesterov)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        const float lr = 0.05f;
        var parameter = Host.Random(10, Count);
        var velocity = Host.Random(11, Count, 0f, 0.5f);
        var (pBuffer, p) = Host.Upload(acc, parameter, new Shape(Count));
        var (vBuffer, v) = Host.Upload(acc, velocity, new Shape(Count));
        using (pBuffer) using (vBuffer)
        {
            var tfParameter = (float[])parameter.Clone();
            var tfAccum = (float[])velocity.Clone();
            var exactParameter = FiniteDifference.ToDouble(parameter);
            var exactAccum = FiniteDifference.ToDouble(velocity);
            for (int step = 0; step < Steps; step++)
            {
                var gradient = Host.Random(100 + step, Count);
                var (gBuffer, g) = Host.Upload(acc, gradient, new Shape(Count));
                using (gBuffer) Sgd.Step(stream, p, g, v, lr, momentum, nesterov);
                for (int i = 0; i < Count; i++)
                {
                    // TF, float, TF's order.
                    tfAccum[i] = tfAccum[i] * momentum + gradient[i];
                    tfParameter[i] -= nesterov ? gradient[i] * lr + tfAccum[i] * momentum * lr : tfAccum[i] * lr;
                    // The brief's formulas in double.
                    exactAccum[i] = momentum * exactAccum[i] + gradient[i];
                    exactParameter[i] -= nesterov ? lr * gradient[i] + lr * momentum * exactAccum[i] : lr * exactAccum[i];
                }
            }
            string what = $"{accelerator} momentum {momentum} nesterov {nesterov} after {Steps} steps";
            var actualParameter = Host.Download(p);
            var actualVelocity = Host.Download(v);
            Check.Equal<float>(tfParameter, actualParameter, what + ": parameter vs TF float");
            Check.Equal<float>(tfAccum, actualVelocity, what + ": velocity vs TF float");
            Check.Close(exactParameter, FiniteDifference.ToDouble(actualParameter), 1e-6, 1e-5, what + ": parameter vs double");
            Check.Close(exactAccum, FiniteDifference.ToDouble(actualVelocity), 1e-6, 1e-5, what + ": velocity vs double");
        }
    }
}
