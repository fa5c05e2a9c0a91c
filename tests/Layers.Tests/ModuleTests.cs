using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using TutorialModels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

public sealed class ModuleTests
{
    // A model with a nested container, registered interleaved with a parameter of its own.
    private sealed class Net : Module
    {
        public Net(Accelerator acc)
        {
            Features = Register("features", new Sequential(new Conv2d(acc, 1, 2, 3, seed: 1), new Relu(), new Flatten()));
            Scale = RegisterParameter("scale", Tensor.Ones(acc, [1]));
            Fc = Register("fc1", new Linear(acc, 2 * 4 * 4, 3, seed: 2, useBias: false));
        }

        public Sequential Features { get; }
        public Tensor Scale { get; }
        public Linear Fc { get; }

        public override Tensor Forward(Tensor input) => Fc.Forward(Features.Forward(input));
    }

    [Fact]
    public void NamedParametersFollowRegistrationOrderWithPaths()
    {
        using var scope = new TensorScope();
        using var net = new Net(TestAccelerators.Cpu);
        string[] expected = ["features/0/weight", "features/0/bias", "scale", "fc1/weight"];
        Assert.Equal(expected, net.NamedParameters().Keys);
        Assert.Equal(expected, net.Parameters().Select(p => p.Name));   // tensors carry their paths (for error messages)
        Assert.All(net.Parameters(), p => Assert.True(p.RequiresGrad));
        Assert.Equal([3, 3, 1, 2], net.NamedParameters()["features/0/weight"].Shape.Dims);
        Assert.Equal(["features", "fc1"], net.Children().Select(c => c.Name));
    }

    private sealed class BadNames(Accelerator acc, string first, string second) : Module
    {
        public void Build()
        {
            RegisterParameter(first, Tensor.Zeros(acc, [1]));
            Register(second, new Relu());
        }

        public override Tensor Forward(Tensor input) => input;
    }

    [Fact]
    public void RegisteringATakenOrInvalidNameFailsWithTheName()
    {
        using var scope = new TensorScope();
        var taken = Assert.Throws<ArgumentException>(() => new BadNames(TestAccelerators.Cpu, "w", "w").Build());
        Assert.Contains("'w' is already registered", taken.Message);
        var slash = Assert.Throws<ArgumentException>(() => new BadNames(TestAccelerators.Cpu, "a/b", "c").Build());
        Assert.Contains("'a/b'", slash.Message);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void InitialisationIsATruncatedNormalAndAConstantBiasReproducibleBySeed(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var conv = new Conv2d(acc, 3, 64, 5, seed: 42, stddev: 0.1f, biasValue: 0.1f);
        float[] w = conv.Weight.ToArray();
        Assert.Equal(5 * 5 * 3 * 64, w.Length);
        Assert.All(w, v => Assert.True(Math.Abs(v) < 0.2f, $"{v} lies beyond 2 stddev"));
        double mean = w.Average(v => (double)v);
        double std = Math.Sqrt(w.Average(v => (v - mean) * (v - mean)));
        // A normal truncated at 2 sigma has std 0.8796 sigma; 4800 samples give about 1% error.
        Assert.True(Math.Abs(mean) < 0.005, $"mean {mean}");
        Assert.True(Math.Abs(std - 0.08796) < 0.004, $"std {std}, expected 0.0880");
        Assert.All(conv.Bias!.ToArray(), b => Assert.Equal(0.1f, b));

        // Same seed: the same bits, also across accelerators; another seed: other values.
        Assert.Equal(w, new Conv2d(acc, 3, 64, 5, seed: 42, stddev: 0.1f).Weight.ToArray());
        Assert.Equal(w, new Conv2d(TestAccelerators.Cpu, 3, 64, 5, seed: 42, stddev: 0.1f).Weight.ToArray());
        Assert.NotEqual(w, new Conv2d(acc, 3, 64, 5, seed: 43, stddev: 0.1f).Weight.ToArray());

        // The defaults are the deconv tutorial's: stddev 0.01 and bias 0.01.
        var defaults = new Linear(acc, 100, 20, seed: 3);
        Assert.All(defaults.Weight.ToArray(), v => Assert.True(Math.Abs(v) < 0.02f));
        Assert.All(defaults.Bias!.ToArray(), b => Assert.Equal(0.01f, b));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void LinearComputesXTimesWPlusB(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var fc = new Linear(acc, 3, 2, seed: 5, stddev: 1f, biasValue: 0.5f);
        float[] w = fc.Weight.ToArray();
        float[] x = [1f, -2f, 0.5f, 3f, 0f, -1f];
        float[] y = fc.Forward(Tensor.FromArray(acc, x, [2, 3])).ToArray();
        for (int b = 0; b < 2; b++)
            for (int o = 0; o < 2; o++)
            {
                double expected = 0.5;
                for (int i = 0; i < 3; i++) expected += x[b * 3 + i] * w[i * 2 + o];
                Assert.True(Math.Abs(y[b * 2 + o] - expected) <= 1e-5 + 1e-5 * Math.Abs(expected), $"y[{b},{o}] = {y[b * 2 + o]}, expected {expected}");
            }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void Conv2dForwardIsFunctionalConv2dPlusBias(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var conv = new Conv2d(acc, 2, 3, (3, 2), seed: 9, stride: (2, 1), padding: Padding.Valid, stddev: 0.5f, biasValue: 0.25f);
        var x = Tensor.Uniform(acc, [2, 5, 4, 2], -1f, 1f, seed: 11);
        float[] actual = conv.Forward(x).ToArray();
        float[] expected = Functional.BiasAdd(Functional.Conv2d(x, conv.Weight, (2, 1), Padding.Valid), conv.Bias!).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5f, $"[{i}]: {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void WrongInputShapesNameTheLayerAndBothShapes()
    {
        using var scope = new TensorScope();
        var acc = TestAccelerators.Cpu;
        var net = new TinyCnn(acc, seed: 1);
        var conv = Assert.Throws<ArgumentException>(() => net.Conv1.Forward(Tensor.Zeros(acc, [1, 8, 8, 3])));
        Assert.Contains("conv1/weight", conv.Message);
        Assert.Contains("[1, 8, 8, 3]", conv.Message);
        Assert.Contains("[3, 3, 1, 4]", conv.Message);
        var block = Assert.Throws<ArgumentException>(() => net.Conv1.ForwardReluMaxPool(Tensor.Zeros(acc, [1, 8, 8, 3]), new PoolOptions(2, 2, Padding.Same)));
        Assert.Contains("conv1/weight", block.Message);
        Assert.Contains("[1, 8, 8, 3]", block.Message);
        var fc = Assert.Throws<ArgumentException>(() => net.Fc1.Forward(Tensor.Zeros(acc, [2, 63])));
        Assert.Contains("fc1/weight", fc.Message);
        Assert.Contains("[2, 63]", fc.Message);
        Assert.Contains("[64, 2]", fc.Message);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ExportedParametersLoadIntoAnotherModel(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var source = new TinyCnn(acc, seed: 1);
        var target = new TinyCnn(acc, seed: 100);
        var values = source.ExportParameters();
        Assert.Equal(["conv1/weight", "conv1/bias", "fc1/weight", "fc1/bias"], values.Keys);
        Assert.Equal([3, 3, 1, 4], values["conv1/weight"].Shape.Dims);
        target.ImportParameters(values);
        foreach (var (path, parameter) in target.NamedParameters())
            Assert.Equal(values[path].Data, parameter.ToArray());
        var x = Tensor.Uniform(acc, [2, 8, 8, 1], 0f, 1f, seed: 3);
        Assert.Equal(source.Forward(x).ToArray(), target.Forward(x).ToArray());
    }

    [Fact]
    public void ImportingMismatchedParametersFailsAndChangesNothing()
    {
        using var scope = new TensorScope();
        var acc = TestAccelerators.Cpu;
        var model = new TinyCnn(acc, seed: 1);
        float[] before = model.Conv1.Weight.ToArray();
        var values = new Dictionary<string, HostArray>(model.ExportParameters());
        values["conv1/weight"] = new HostArray([3, 3, 1, 4], new float[36]);
        values["fc1/bias"] = new HostArray([3], new float[3]);
        var shape = Assert.Throws<ArgumentException>(() => model.ImportParameters(values));
        Assert.Contains("'fc1/bias' is [2] in the model but the values are [3]", shape.Message);
        Assert.Equal(before, model.Conv1.Weight.ToArray());

        values.Remove("fc1/bias");
        var missing = Assert.Throws<ArgumentException>(() => model.ImportParameters(values));
        Assert.Contains("'fc1/bias'", missing.Message);
        model.ImportParameters(values, strict: false);   // the rest loads; fc1/bias keeps its value
        Assert.All(model.Conv1.Weight.ToArray(), v => Assert.Equal(0f, v));

        values["fc2/weight"] = new HostArray([1], [1f]);
        var unknown = Assert.Throws<ArgumentException>(() => model.ImportParameters(values, strict: false));
        Assert.Contains("no parameter 'fc2/weight'", unknown.Message);
        Assert.Throws<ArgumentException>(() => new HostArray([2, 2], new float[3]));
    }
}

// Reads the allocator's global counters, so it runs alone (see AllocatorStatistics).
[Collection(nameof(AllocatorStatistics))]
public sealed class ModuleMemoryTests
{
    [Fact]
    public void DisposingAModelReturnsItsParametersToTheAllocator()
    {
        var acc = TestAccelerators.Cpu;
        long before = DeviceAllocator.For(acc).Statistics.BytesInUse;
        var model = new TinyCnn(acc, seed: 1);
        using (var scope = new TensorScope())
        {
            var x = Tensor.Uniform(acc, [2, 8, 8, 1], 0f, 1f, seed: 3);
            Functional.ReduceSum(model.Forward(x)).Backward();
        }
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
        model.ZeroGrad();
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));
        model.Dispose();
        Assert.All(model.Parameters(), p => Assert.True(p.IsDisposed));
        Assert.Equal(before, DeviceAllocator.For(acc).Statistics.BytesInUse);
    }
}
