using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Adam against host references for steps t = 1..3 (where the bias correction matters most): TF's float expressions
// (training_ops.cc ApplyAdam, lr_t from the host in double) must match bit for bit, and Kingma & Ba's formulas in
// double within |a - e| <= 1e-6 + 1e-5 |e|.
public sealed class AdamTests
{
    private const int Count = 517;

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void MatchesTensorFlowForStepsOneToThree(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        const float lr = 0.01f, beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
        var parameter = Host.Random(1, Count);
        var (pBuffer, p) = Host.Upload(acc, parameter, new Shape(11, 47));
        var (mBuffer, m) = Host.Upload(acc, new float[Count], new Shape(11, 47));
        var (vBuffer, v) = Host.Upload(acc, new float[Count], new Shape(11, 47));
        using (pBuffer) using (mBuffer) using (vBuffer)
        {
            var tfParameter = (float[])parameter.Clone();
            var tfM = new float[Count];
            var tfV = new float[Count];
            var exactParameter = FiniteDifference.ToDouble(parameter);
            var exactM = new double[Count];
            var exactV = new double[Count];
            for (int t = 1; t <= 3; t++)
            {
                var gradient = Host.Random(10 + t, Count);
                var (gBuffer, g) = Host.Upload(acc, gradient, new Shape(11, 47));
                using (gBuffer) Adam.Step(stream, p, g, m, v, lr, t, beta1, beta2, epsilon);

                float lrT = (float)(lr * Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t)));
                for (int i = 0; i < Count; i++)
                {
                    float gi = gradient[i];
                    tfM[i] += (gi - tfM[i]) * (1f - beta1);
                    tfV[i] += (gi * gi - tfV[i]) * (1f - beta2);
                    tfParameter[i] -= tfM[i] * lrT / (MathF.Sqrt(tfV[i]) + epsilon);

                    exactM[i] = beta1 * exactM[i] + (1 - beta1) * gi;
                    exactV[i] = beta2 * exactV[i] + (1 - beta2) * gi * gi;
                    double mHat = exactM[i] / (1 - Math.Pow(beta1, t));
                    double vHat = exactV[i] / (1 - Math.Pow(beta2, t));
                    // TF's epsilon sits outside the bias correction: lr_t m / (sqrt(v) + eps) = lr mHat / (sqrt(vHat) + eps / sqrt(1 - beta2^t)).
                    exactParameter[i] -= lr * mHat / (Math.Sqrt(vHat) + epsilon / Math.Sqrt(1 - Math.Pow(beta2, t)));
                }
                string what = $"{accelerator} Adam step {t}";
                var actualParameter = Host.Download(p);
                Check.Equal<float>(tfParameter, actualParameter, what + ": parameter vs TF float");
                Check.Equal<float>(tfM, Host.Download(m), what + ": m vs TF float");
                Check.Equal<float>(tfV, Host.Download(v), what + ": v vs TF float");
                Check.Close(exactParameter, FiniteDifference.ToDouble(actualParameter), 1e-6, 1e-5, what + ": parameter vs double");
            }
        }
    }

    [Fact]
    public void FirstStepMovesEachParameterByTheLearningRate()
    {
        // At t = 1 from zero moments, mHat = g and vHat = g^2, so the step is lr * g / (|g| + eps'), i.e. lr * sign(g).
        var acc = TestAccelerators.Cpu;
        var gradient = new float[] { 3f, -0.25f, 1e-2f, -40f };
        var (pBuffer, p) = Host.Upload(acc, new float[4], new Shape(4));
        var (gBuffer, g) = Host.Upload(acc, gradient, new Shape(4));
        var (mBuffer, m) = Host.Upload(acc, new float[4], new Shape(4));
        var (vBuffer, v) = Host.Upload(acc, new float[4], new Shape(4));
        using (pBuffer) using (gBuffer) using (mBuffer) using (vBuffer)
        {
            Adam.Step(acc.DefaultStream, p, g, m, v, 1e-3f, 1);
            Check.Close(new[] { -1e-3, 1e-3, -1e-3, 1e-3 }, FiniteDifference.ToDouble(Host.Download(p)), 0, 1e-4, "Adam t = 1 step");
            Check.Close(new[] { 0.3, -0.025, 1e-3, -4 }, FiniteDifference.ToDouble(Host.Download(m)), 0, 1e-6, "Adam t = 1 m");
        }
    }

    [Fact]
    public void ErrorsNameOpArgumentAndRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        var (pBuffer, p) = Host.Allocate<float>(acc, new Shape(4));
        var (gBuffer, g) = Host.Allocate<float>(acc, new Shape(4));
        var (mBuffer, m) = Host.Allocate<float>(acc, new Shape(4));
        var (wBuffer, wrong) = Host.Allocate<float>(acc, new Shape(2, 2));
        using (pBuffer) using (gBuffer) using (mBuffer) using (wBuffer)
        {
            var shape = Assert.Throws<ArgumentException>(() => Adam.Step(stream, p, g, m, wrong, 1e-3f, 1));
            Assert.Contains("Adam", shape.Message);
            Assert.Contains("[4]", shape.Message);
            Assert.Contains("[2, 2]", shape.Message);
            Assert.Equal("v", shape.ParamName);

            var step = Assert.Throws<ArgumentException>(() => Adam.Step(stream, p, g, m, m, 1e-3f, 0));
            Assert.Contains("step is 0", step.Message);
            var beta1 = Assert.Throws<ArgumentException>(() => Adam.Step(stream, p, g, m, m, 1e-3f, 1, beta1: 1f));
            Assert.Contains("beta1 is 1", beta1.Message);
            Assert.Contains("[0, 1)", beta1.Message);
            var beta2 = Assert.Throws<ArgumentException>(() => Adam.Step(stream, p, g, m, m, 1e-3f, 1, beta2: -0.5f));
            Assert.Equal("beta2", beta2.ParamName);
            var epsilon = Assert.Throws<ArgumentException>(() => Adam.Step(stream, p, g, m, m, 1e-3f, 1, epsilon: float.NaN));
            Assert.Equal("epsilon", epsilon.ParamName);
            var rate = Assert.Throws<ArgumentException>(() => Adam.Step(stream, p, g, m, m, float.NaN, 1));
            Assert.Contains("Adam: learningRate", rate.Message);
        }
    }
}
