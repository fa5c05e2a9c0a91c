using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// BiasAdd.cs: forward and subtract against a plain loop (one exact float add per element: bit-identical), the
// bias gradient against a double-precision column sum, its determinism, and finite differences.
public sealed class BiasAddTests
{
    public static TheoryData<string, int[]> Shapes
    {
        get
        {
            var data = new TheoryData<string, int[]>();
            int[][] shapes = [[1, 1], [7, 3], [5, 33], [1000, 1], [3, 7, 5, 64], [2, 5, 5, 3], [300, 65], [128, 3, 3, 2]];
            foreach (string name in AcceleratorCatalog.Names)
                foreach (var shape in shapes)
                    data.Add(name, shape);
            return data;
        }
    }

    [Theory, MemberData(nameof(Shapes))]
    public void ForwardAndSubtractAddTheBiasPerChannel(string accelerator, int[] shape)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        int size = (int)new Shape(shape).Size, channels = shape[^1];
        float[] x = Host.Random(11, size), bias = Host.Random(12, channels, -3f, 3f);
        var xv = scope.Upload(x, shape);
        var bv = scope.Upload(bias, channels);
        var output = scope.Allocate<float>(shape);
        BiasAdd.Forward(stream, xv, bv, output);
        var expected = new float[size];
        for (int i = 0; i < size; i++) expected[i] = x[i] + bias[i % channels];
        Check.Equal<float>(expected, Host.Download(output), "x + bias");
        BiasAdd.Subtract(stream, xv, bv, output);
        for (int i = 0; i < size; i++) expected[i] = x[i] - bias[i % channels];
        Check.Equal<float>(expected, Host.Download(output), "x - bias");
    }

    [Theory, MemberData(nameof(Shapes))]
    public void BackwardBiasSumsEveryRow(string accelerator, int[] shape)
    {
        var acc = TestAccelerators.Get(accelerator);
        int channels = shape[^1];
        float[] dy = Host.Random(13, new Shape(shape).Size);
        // Float sums of up to 1000 values in [-1, 1): |a - ref| <= 1e-4 + 1e-5 |ref|.
        Check.Close(ReferenceBiasGrad(dy, channels), FiniteDifference.ToDouble(RunBiasGrad(acc, dy, shape)), 1e-4, 1e-5, "db", c => $"channel {c}");
    }

    // The training shape: 73,728 rows, 288 chunks of 256 rows, 2 column tiles. Deterministic: two runs are
    // bit-identical, and so are the CPU and the device (the chunking depends only on the shape, the order of
    // additions is fixed, and no backend contracts or reassociates).
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardBiasOnTrainingRowsIsDeterministic(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        int[] shape = [128, 24, 24, 64];
        float[] dy = Host.Random(14, new Shape(shape).Size);
        float[] first = RunBiasGrad(acc, dy, shape), second = RunBiasGrad(acc, dy, shape);
        Check.Equal<float>(first, second, "two runs on the same accelerator");
        // 73,728 values in [-1, 1) per channel, summed in float in blocks: |a - ref| <= 1e-3 + 1e-5 |ref|.
        Check.Close(ReferenceBiasGrad(dy, 64), FiniteDifference.ToDouble(first), 1e-3, 1e-5, "db", c => $"channel {c}");
        if (accelerator != "cpu")
            Check.Equal<float>(RunBiasGrad(TestAccelerators.Cpu, dy, shape), first, "CPU vs " + accelerator + " (bit-identical)");
    }

    // More rows than 4096 chunks of 256: the chunks grow (1,050,000 rows: 4086 chunks of 257 rows).
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardBiasOnAMillionRows(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        TestAccelerators.SkipScaleTestOnDebugDevice(accelerator);
        int[] shape = [1050000, 2];
        Assert.Equal(257, BiasAdd.ChunkRows(1050000));
        float[] dy = Host.Random(18, 2 * 1050000);
        // |a - ref| <= 2e-3 + 1e-5 |ref| for sums of 1,050,000 values in [-1, 1).
        Check.Close(ReferenceBiasGrad(dy, 2), FiniteDifference.ToDouble(RunBiasGrad(acc, dy, shape)), 2e-3, 1e-5, "db", c => $"channel {c}");
    }

    [Fact]
    public void BackwardBiasOfNoRowsIsZero()
    {
        Check.Equal<float>(new float[5], RunBiasGrad(TestAccelerators.Cpu, [], [0, 4, 5]), "db of an empty batch");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardBiasMatchesFiniteDifferences(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        int[] shape = [2, 3, 2, 4];
        const int channels = 4, size = 48;
        double[] x = FiniteDifference.ToDouble(Host.Random(15, size));
        float[] dy = Host.Random(16, size);
        double[] numeric = FiniteDifference.Gradient(b =>
        {
            var y = new double[size];
            for (int i = 0; i < size; i++) y[i] = x[i] + b[i % channels];
            return y;
        }, FiniteDifference.ToDouble(Host.Random(17, channels)), FiniteDifference.ToDouble(dy));
        Check.Close(numeric, FiniteDifference.ToDouble(RunBiasGrad(acc, dy, shape)), 1e-5, 1e-5, "db vs central differences");
    }

    [Fact]
    public void ShapeErrorsNameTheOpBothShapesAndTheRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        var x = scope.Allocate<float>(2, 3, 3, 64);
        var error = Assert.Throws<ArgumentException>(() => BiasAdd.Forward(stream, x, scope.Allocate<float>(10), x));
        Assert.Contains("BiasAdd.Forward: bias must be [C] = [64] for x [2, 3, 3, 64]", error.Message);
        Assert.Contains("but it is [10]", error.Message);

        error = Assert.Throws<ArgumentException>(() => BiasAdd.Subtract(stream, x, scope.Allocate<float>(64), scope.Allocate<float>(2, 3, 64)));
        Assert.Contains("BiasAdd.Subtract: output must have shape [2, 3, 3, 64] (the same shape as x), but it is [2, 3, 64]", error.Message);

        var vector = scope.Allocate<float>(64);
        error = Assert.Throws<ArgumentException>(() => BiasAdd.Forward(stream, vector, vector, vector));
        Assert.Contains("BiasAdd.Forward: x must be at least 2-D", error.Message);
        Assert.Contains("[64]", error.Message);

        error = Assert.Throws<ArgumentException>(() => BiasAdd.BackwardBias(stream, x, scope.Allocate<float>(1, 64)));
        Assert.Contains("BiasAdd.BackwardBias: biasGrad must be [C] = [64] for outputGrad [2, 3, 3, 64]", error.Message);
        Assert.Contains("but it is [1, 64]", error.Message);
    }

    // On a stream of its own: the gradient uses the stream's scratch memory.
    private static float[] RunBiasGrad(Accelerator acc, float[] dy, int[] shape)
    {
        using var scope = new TensorScope(acc, ownStream: true);
        var grad = scope.Allocate<float>(shape[^1]);
        BiasAdd.BackwardBias(scope.Stream, scope.Upload(dy, shape), grad);
        return scope.Download(grad);
    }

    private static double[] ReferenceBiasGrad(float[] dy, int channels)
    {
        var sum = new double[channels];
        for (int r = 0; r < dy.Length / channels; r++)
            for (int c = 0; c < channels; c++)
                sum[c] += dy[r * channels + c];
        return sum;
    }
}
