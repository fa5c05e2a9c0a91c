using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Gemm against a plain triple loop in double, for every transpose combination and sizes that do not divide the
// 64 x 64 tile or the 16-deep K step. Tolerance |a - e| <= atol + rtol * |e| with atol = 1e-6 * K and rtol = 1e-5:
// inputs lie in [-1, 1), so a float sum of K products drifts by at most a few K * 2^-24 from the exact value.
public sealed class GemmTests
{
    /// <summary>(M, K, N) triples: 1x1x1, thin, ragged, exactly one tile, and the LeNet fc layers with their backwards.</summary>
    private static readonly (int M, int K, int N)[] Sizes =
    [
        (1, 1, 1), (1, 7, 3), (5, 1, 9), (65, 33, 17), (64, 16, 64), (17, 64, 1), (3, 100, 70),
        (128, 400, 120), (128, 120, 84), (128, 84, 10), (400, 128, 120), (128, 10, 84),
    ];

    /// <summary>The accelerators other than the CPU, each compared against the CPU.</summary>
    public static TheoryData<string> Devices => TestAccelerators.OtherThanCpu;

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void MatchesTripleLoopForAllTransposes(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        int seed = 1;
        foreach (var (m, k, n) in Sizes)
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    var a = Host.Random(seed++, (long)m * k);
                    var b = Host.Random(seed++, (long)k * n);
                    var actual = Run(acc, a, m, k, transposeA, b, n, transposeB, null, 1f, 0f);
                    var expected = Reference(a, m, k, transposeA, b, n, transposeB, null, 1f, 0f);
                    Check.Close(expected, actual, 1e-6 * k, 1e-5, $"{accelerator} Gemm M={m} K={k} N={n} transposeA={transposeA} transposeB={transposeB}",
                        i => $"c[{i / n}, {i % n}]");
                }
            }
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void AlphaAndBetaScaleProductAndC(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        foreach (var (m, k, n, transposeA, transposeB) in new[] { (70, 19, 33, false, true), (9, 130, 66, true, false), (1, 1, 1, true, true) })
        {
            var a = Host.Random(11, (long)m * k);
            var b = Host.Random(12, (long)k * n);
            var c = Host.Random(13, (long)m * n);
            var actual = Run(acc, a, m, k, transposeA, b, n, transposeB, c, 0.5f, -2f);
            var expected = Reference(a, m, k, transposeA, b, n, transposeB, c, 0.5f, -2f);
            Check.Close(expected, actual, 1e-6 * k + 1e-6, 1e-5, $"{accelerator} Gemm alpha 0.5 beta -2 M={m} K={k} N={n}", i => $"c[{i / n}, {i % n}]");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BetaZeroNeverReadsC(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        const int m = 67, k = 21, n = 65;
        var a = Host.Random(21, m * k);
        var b = Host.Random(22, k * n);
        var nan = new float[m * n];
        Array.Fill(nan, float.NaN);
        var actual = Run(acc, a, m, k, false, b, n, false, nan, 2f, 0f);
        var expected = Reference(a, m, k, false, b, n, false, null, 2f, 0f);
        Check.Close(expected, actual, 2e-6 * k, 1e-5, $"{accelerator} Gemm beta 0 over NaN-filled c", i => $"c[{i / n}, {i % n}]");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void EmptyInnerDimensionGivesBetaTimesC(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var c = Host.Iota(6);
        var scaled = Run(acc, [], 2, 0, false, [], 3, false, c, 1f, 3f);
        Check.Equal<float>(new float[] { 3, 6, 9, 12, 15, 18 }, scaled, $"{accelerator} Gemm K = 0, beta 3");
        var zeroed = Run(acc, [], 2, 0, true, [], 3, true, [float.NaN, 1, 2, 3, 4, 5], 1f, 0f);
        Check.Equal<float>(new float[6], zeroed, $"{accelerator} Gemm K = 0, beta 0");

        // M = 0 or N = 0: nothing to compute, nothing launched.
        Assert.Empty(Run(acc, Host.Iota(0), 0, 4, false, Host.Iota(12), 3, false, null, 1f, 0f));
        Assert.Empty(Run(acc, Host.Iota(8), 2, 4, false, Host.Iota(0), 0, false, null, 1f, 0f));
    }

    [Theory, MemberData(nameof(Devices))]
    public void BitIdenticalToCpu(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        foreach (var (m, k, n) in new[] { (128, 400, 120), (65, 33, 17), (400, 128, 120) })
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    var a = Host.Random(31, (long)m * k);
                    var b = Host.Random(32, (long)k * n);
                    var c = Host.Random(33, (long)m * n);
                    var expected = Run(TestAccelerators.Cpu, a, m, k, transposeA, b, n, transposeB, c, 0.75f, 0.25f);
                    var actual = Run(acc, a, m, k, transposeA, b, n, transposeB, c, 0.75f, 0.25f);
                    Check.Equal<float>(expected, actual, $"{accelerator} vs cpu Gemm M={m} K={k} N={n} transposeA={transposeA} transposeB={transposeB}",
                        i => $"c[{i / n}, {i % n}]");
                }
            }
        }
    }

    // The host-CPU algorithm (packed panel, Float8 lanes) against the tiled one on the same accelerator: the same bits,
    // for every size (ragged rows and columns, K = 0), transpose combination and epilogue.
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void VectorAndTiledAlgorithmsGiveTheSameBits(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        TestAccelerators.RequireHostShaped(acc);
        foreach (var (m, k, n) in Sizes.Append((6, 0, 5)).Append((3, 9, 33)))
        {
            foreach (bool transposeA in new[] { false, true })
            {
                foreach (bool transposeB in new[] { false, true })
                {
                    foreach (var (alpha, beta) in new[] { (1f, 0f), (0.75f, 0.25f) })
                    {
                        var a = Host.Random(41, (long)m * k);
                        var b = Host.Random(42, (long)k * n);
                        var c = Host.Random(43, (long)m * n);
                        var tiled = Run(acc, a, m, k, transposeA, b, n, transposeB, c, alpha, beta, GemmAlgorithm.Tiled);
                        var vector = Run(acc, a, m, k, transposeA, b, n, transposeB, c, alpha, beta, GemmAlgorithm.Vector);
                        Check.Equal<float>(tiled, vector, $"{accelerator} Vector vs Tiled Gemm M={m} K={k} N={n} transposeA={transposeA} transposeB={transposeB} alpha={alpha} beta={beta}",
                            i => $"c[{i / n}, {i % n}]");
                    }
                }
            }
        }
    }

    // The fully connected backward pass through the same kernel: for Y = X W and upstream dY,
    // dX = dY W^T (transposeB) and dW = X^T dY (transposeA), checked against central differences of <dY, X W>.
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardIdentitiesMatchFiniteDifferences(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        const int batch = 3, inputs = 5, outputs = 4;
        var x = Host.Random(41, batch * inputs);
        var w = Host.Random(42, inputs * outputs);
        var dy = Host.Random(43, batch * outputs);

        var dx = Run(acc, dy, batch, outputs, false, w, inputs, true, null, 1f, 0f);
        var dw = Run(acc, x, inputs, batch, true, dy, outputs, false, null, 1f, 0f);

        var xd = FiniteDifference.ToDouble(x);
        var wd = FiniteDifference.ToDouble(w);
        var dyd = FiniteDifference.ToDouble(dy);
        var dxExpected = FiniteDifference.Gradient(p => MatMul(p, wd, batch, inputs, outputs), xd, dyd);
        var dwExpected = FiniteDifference.Gradient(p => MatMul(xd, p, batch, inputs, outputs), wd, dyd);
        Check.Close(dxExpected, Array.ConvertAll(dx, v => (double)v), 1e-5, 1e-5, $"{accelerator} dX = dY W^T");
        Check.Close(dwExpected, Array.ConvertAll(dw, v => (double)v), 1e-5, 1e-5, $"{accelerator} dW = X^T dY");
    }

    [Fact]
    public void ShapeErrorsNameOpShapesAndRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        var (aBuffer, a) = Host.Allocate<float>(acc, new Shape(3, 4));
        var (bBuffer, b) = Host.Allocate<float>(acc, new Shape(5, 6));
        var (cBuffer, c) = Host.Allocate<float>(acc, new Shape(3, 6));
        var (vBuffer, vector) = Host.Allocate<float>(acc, new Shape(4));
        using (aBuffer) using (bBuffer) using (cBuffer) using (vBuffer)
        {
            var inner = Assert.Throws<ArgumentException>(() => Gemm.Multiply(stream, a, false, b, false, c));
            Assert.Contains("Gemm", inner.Message);
            Assert.Contains("[3, 4]", inner.Message);
            Assert.Contains("[5, 6]", inner.Message);
            Assert.Contains("inner dimensions must match", inner.Message);
            Assert.Equal("b", inner.ParamName);

            // a^T is [4, 3]; with b^T [6, 5] the inner dimensions 3 and 6 still differ.
            var transposed = Assert.Throws<ArgumentException>(() => Gemm.Multiply(stream, a, true, b, true, c));
            Assert.Contains("K = 3", transposed.Message);
            Assert.Contains("K = 6", transposed.Message);

            // a [3, 4] times b [4, 6] is [3, 6], so a c of [6, 3] is wrong.
            var (b2Buffer, b2) = Host.Allocate<float>(acc, new Shape(4, 6));
            var (c2Buffer, c2) = Host.Allocate<float>(acc, new Shape(6, 3));
            using (b2Buffer) using (c2Buffer)
            {
                var output = Assert.Throws<ArgumentException>(() => Gemm.Multiply(stream, a, false, b2, false, c2));
                Assert.Contains("Gemm", output.Message);
                Assert.Contains("[3, 6]", output.Message);
                Assert.Contains("[6, 3]", output.Message);
                Assert.Contains("[M, N]", output.Message);
                Assert.Equal("c", output.ParamName);
            }

            // More row tiles than the grid's Y dimension holds (empty matrices: the check needs no memory).
            const int rows = 65535 * 64 + 1;
            var (tallBuffer, tall) = Host.Allocate<float>(acc, new Shape(rows, 0));
            var (emptyBuffer, empty) = Host.Allocate<float>(acc, new Shape(0, 0));
            using (tallBuffer) using (emptyBuffer)
            {
                var grid = Assert.Throws<ArgumentException>(() => Gemm.Multiply(stream, tall, false, empty, false, tall));
                Assert.Contains($"M = {rows}", grid.Message);
                Assert.Contains("at most 65535", grid.Message);
            }

            var rank = Assert.Throws<ArgumentException>(() => Gemm.Multiply(stream, vector, false, b, false, c));
            Assert.Contains("Gemm", rank.Message);
            Assert.Contains("rank 2", rank.Message);
            Assert.Contains("[4]", rank.Message);
        }
    }

    private static float[] Run(Accelerator acc, float[] a, int m, int k, bool transposeA, float[] b, int n, bool transposeB,
                               float[]? c, float alpha, float beta, GemmAlgorithm algorithm = GemmAlgorithm.Auto)
    {
        var stream = acc.DefaultStream;
        var (aBuffer, aView) = Host.Upload(acc, a, transposeA ? new Shape(k, m) : new Shape(m, k));
        var (bBuffer, bView) = Host.Upload(acc, b, transposeB ? new Shape(n, k) : new Shape(k, n));
        var (cBuffer, cView) = c is null ? Host.Allocate<float>(acc, new Shape(m, n)) : Host.Upload(acc, c, new Shape(m, n));
        using (aBuffer) using (bBuffer) using (cBuffer)
        {
            Gemm.Multiply(stream, aView, transposeA, bView, transposeB, cView, algorithm, alpha, beta);
            stream.Synchronize();
            return Host.Download(cView);
        }
    }

    /// <summary>alpha * op(A) op(B) + beta * C by the definition, in double (C ignored when beta is 0).</summary>
    private static float[] Reference(float[] a, int m, int k, bool transposeA, float[] b, int n, bool transposeB, float[]? c, float alpha, float beta)
    {
        var result = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    double av = transposeA ? a[p * m + i] : a[i * k + p];
                    double bv = transposeB ? b[j * k + p] : b[p * n + j];
                    sum += av * bv;
                }
                double value = alpha * sum;
                if (beta != 0) value += beta * (double)c![i * n + j];
                result[i * n + j] = (float)value;
            }
        }
        return result;
    }

    private static double[] MatMul(double[] x, double[] w, int rows, int inner, int columns)
    {
        var y = new double[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
                for (int p = 0; p < inner; p++)
                    y[i * columns + j] += x[i * inner + p] * w[p * columns + j];
        return y;
    }
}
