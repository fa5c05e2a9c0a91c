using GpuDeconv.Compute;
using TutorialModels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

public sealed class OptimizerTests
{
    // loss = l2_loss(p) + sum(p * c), so the gradient is p + c: it changes with p, and the host can compute it exactly.
    private static Tensor Loss(Tensor p, Tensor c) => Functional.Add(Functional.L2Loss(p), Functional.ReduceSum(Functional.Multiply(p, c)));

    private static (float[] P, float[] C) Problem(int seed, int size = 7)
    {
        var random = new Random(seed);
        return (Enumerable.Range(0, size).Select(_ => random.NextSingle() * 2 - 1).ToArray(),
                Enumerable.Range(0, size).Select(_ => random.NextSingle() * 2 - 1).ToArray());
    }

    // CPU runs the kernels' C# with IEEE float arithmetic in TF's order: bit-exact. Other devices may contract to FMA.
    private static void AssertClose(string name, float[] expected, float[] actual, string step)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            bool ok = name == "cpu" ? expected[i] == actual[i] : Math.Abs(expected[i] - actual[i]) <= 1e-6f + 1e-5f * Math.Abs(expected[i]);
            Assert.True(ok, $"{step}, p[{i}]: device {actual[i]:R}, host reference {expected[i]:R}, difference {Math.Abs(expected[i] - actual[i])}");
        }
    }

    private static void RunSteps(Tensor p, Tensor c, Optimizer optimizer, Action<float[]> hostStep, float[] reference, string name)
    {
        for (int step = 1; step <= 3; step++)
        {
            using var scope = new TensorScope();
            optimizer.ZeroGrad();
            Loss(p, c).Backward();
            optimizer.Step();
            hostStep(reference);
            AssertClose(name, reference, p.ToArray(), $"step {step}");
        }
        Assert.Equal(3, optimizer.StepCount);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SgdMatchesTheHostReferenceOverThreeSteps(string name)
    {
        var acc = TestAccelerators.Get(name);
        foreach (var (momentum, nesterov) in new[] { (0f, false), (0.9f, false), (0.9f, true) })
        {
            using var scope = new TensorScope();
            var (p0, c0) = Problem(1);
            var p = Tensor.FromArray(acc, p0, [7], requiresGrad: true);
            var c = Tensor.FromArray(acc, c0, [7]);
            const float lr = 0.1f;
            using var sgd = new SgdOptimizer([p], lr, momentum, nesterov);
            float[] reference = (float[])p0.Clone(), accum = new float[7];
            RunSteps(p, c, sgd, q =>
            {
                for (int i = 0; i < q.Length; i++)
                {
                    float g = q[i] + c0[i];
                    if (momentum == 0f && !nesterov) { q[i] -= g * lr; continue; }
                    accum[i] = accum[i] * momentum + g;   // TF ApplyMomentum
                    q[i] -= nesterov ? g * lr + accum[i] * momentum * lr : accum[i] * lr;
                }
            }, reference, name);
            if (momentum > 0f) AssertClose(name, accum, sgd.ExportState()["sgd/velocity/0"].Data, "velocity");
            else Assert.Equal(["sgd/step"], sgd.ExportState().Keys);
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void AdamMatchesTheHostReferenceOverThreeSteps(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var (p0, c0) = Problem(2);
        var p = Tensor.FromArray(acc, p0, [7], requiresGrad: true);
        p.Name = "w";
        var c = Tensor.FromArray(acc, c0, [7]);
        using var adam = new AdamOptimizer([p], learningRate: 0.05f);
        Assert.Equal((0.9f, 0.999f, 1e-8f), (adam.Beta1, adam.Beta2, adam.Epsilon));   // TF's defaults
        float[] reference = (float[])p0.Clone(), m = new float[7], v = new float[7];
        int t = 0;
        RunSteps(p, c, adam, q =>
        {
            t++;
            // TF ApplyAdam: lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), then the moment updates in TF's form.
            float lrT = (float)(0.05f * Math.Sqrt(1 - Math.Pow(0.999f, t)) / (1 - Math.Pow(0.9f, t)));
            for (int i = 0; i < q.Length; i++)
            {
                float g = q[i] + c0[i];
                m[i] += (g - m[i]) * (1f - 0.9f);
                v[i] += (g * g - v[i]) * (1f - 0.999f);
                q[i] -= m[i] * lrT / (MathF.Sqrt(v[i]) + 1e-8f);
            }
        }, reference, name);
        var state = adam.ExportState();
        Assert.Equal(["adam/step", "adam/m/w", "adam/v/w"], state.Keys);
        Assert.Equal([3f], state["adam/step"].Data);
        AssertClose(name, m, state["adam/m/w"].Data, "m");
        AssertClose(name, v, state["adam/v/w"].Data, "v");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void StepSkipsParametersWithoutAGradient(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var used = Tensor.FromArray(acc, [1f, 2f], [2], requiresGrad: true);
        var unused = Tensor.FromArray(acc, [3f, 4f], [2], requiresGrad: true);
        using var adam = new AdamOptimizer([used, unused], learningRate: 0.1f);
        Functional.L2Loss(used).Backward();
        adam.Step();
        Assert.NotEqual([1f, 2f], used.ToArray());
        Assert.Equal([3f, 4f], unused.ToArray());
        Assert.Equal([0f, 0f], adam.ExportState()["adam/m/1"].Data);
        adam.ZeroGrad();
        Assert.Null(used.Grad);
    }

    [Fact]
    public void RestoringTheStateAndContinuingMatchesNeverStoppingBitForBit()
    {
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope();
        var images = Tensor.Uniform(acc, [4, 8, 8, 1], 0f, 1f, seed: 5);
        var labels = Tensor.FromArray(acc, [0, 1, 1, 0], [4]);

        void Train(TinyCnn model, Optimizer optimizer, int steps)
        {
            for (int i = 0; i < steps; i++)
            {
                using var step = new TensorScope();
                optimizer.ZeroGrad();
                Functional.SoftmaxCrossEntropy(model.Forward(images), labels).Backward();
                optimizer.Step();
            }
        }

        foreach (bool adam in new[] { true, false })
        {
            Optimizer Make(TinyCnn model) => adam ? new AdamOptimizer(model, 0.01f) : new SgdOptimizer(model, 0.05f, momentum: 0.9f, nesterov: true);
            var straight = new TinyCnn(acc, seed: 1);
            using var straightOptimizer = Make(straight);
            Train(straight, straightOptimizer, 3);
            var parameters = straight.ExportParameters();
            var state = straightOptimizer.ExportState();
            Train(straight, straightOptimizer, 3);

            var resumed = new TinyCnn(acc, seed: 77);
            using var resumedOptimizer = Make(resumed);
            resumed.ImportParameters(parameters);
            resumedOptimizer.ImportState(state);
            Assert.Equal(3, resumedOptimizer.StepCount);
            Train(resumed, resumedOptimizer, 3);

            foreach (var (path, parameter) in straight.NamedParameters())
                Assert.Equal(parameter.ToArray(), resumed.NamedParameters()[path].ToArray());
            Assert.Equal(straightOptimizer.ExportState().Values.SelectMany(a => a.Data), resumedOptimizer.ExportState().Values.SelectMany(a => a.Data));
        }
    }

    [Fact]
    public void ImportingMismatchedStateFailsWithNamesAndShapes()
    {
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope();
        var model = new TinyCnn(acc, seed: 1);
        using var adam = new AdamOptimizer(model);
        var good = adam.ExportState();
        Assert.Equal(["adam/step", "adam/m/conv1/weight", "adam/m/conv1/bias", "adam/m/fc1/weight", "adam/m/fc1/bias",
                      "adam/v/conv1/weight", "adam/v/conv1/bias", "adam/v/fc1/weight", "adam/v/fc1/bias"], good.Keys);

        var wrongShape = new Dictionary<string, HostArray>(good) { ["adam/v/fc1/weight"] = new HostArray([2, 64], new float[128]) };
        var shape = Assert.Throws<ArgumentException>(() => adam.ImportState(wrongShape));
        Assert.Contains("'adam/v/fc1/weight' is [2, 64] but the optimizer's state tensor is [64, 2]", shape.Message);

        var missing = new Dictionary<string, HostArray>(good);
        missing.Remove("adam/m/conv1/bias");
        Assert.Contains("'adam/m/conv1/bias'", Assert.Throws<ArgumentException>(() => adam.ImportState(missing)).Message);

        var badStep = new Dictionary<string, HostArray>(good) { ["adam/step"] = new HostArray([], [2.5f]) };
        Assert.Contains("whole number", Assert.Throws<ArgumentException>(() => adam.ImportState(badStep)).Message);

        using var sgd = new SgdOptimizer(model, 0.1f, momentum: 0.9f);
        var foreign = Assert.Throws<ArgumentException>(() => sgd.ImportState(good));
        Assert.Contains("'sgd/step'", foreign.Message);
        Assert.Equal(0, adam.StepCount);
    }

    [Fact]
    public void BadHyperparametersAndParametersAreRejected()
    {
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope();
        var p = Tensor.Zeros(acc, [2], requiresGrad: true);
        Assert.Contains("beta1", Assert.Throws<ArgumentException>(() => new AdamOptimizer([p], beta1: 1f)).Message);
        Assert.Contains("learningRate", Assert.Throws<ArgumentException>(() => new SgdOptimizer([p], -1f)).Message);
        Assert.Contains("momentum", Assert.Throws<ArgumentException>(() => new SgdOptimizer([p], 0.1f, momentum: float.NaN)).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new SgdOptimizer([p, p], 0.1f)).Message);
        var data = Tensor.Zeros(acc, [2]);
        Assert.Contains("not a parameter", Assert.Throws<ArgumentException>(() => new SgdOptimizer([data], 0.1f)).Message);
    }
}
