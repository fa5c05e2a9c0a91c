using GpuDeconv.Compute;
using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// RandomNumbers: Philox4x32-10 against the Random123 known answers, every op against a plain host reference built on
// an independent host Philox (uniform exactly; normal against Box-Muller in double within |a - e| <= 4e-6 + 1e-6 |e|,
// since the kernel's software ln/sin/cos are a few float ulps off), bit-identical results on every accelerator, and
// statistics of 100,000 samples within 5 standard errors of the distribution's moments.
public sealed class RandomNumbersTests
{
    private const ulong Seed = 0x0123_4567_89AB_CDEFUL;
    private const ulong Offset = 0xFEDC_BA98_7654_3210UL;

    /// <summary>The accelerators other than the CPU, each compared against the CPU.</summary>
    public static TheoryData<string> Devices => TestAccelerators.OtherThanCpu;

    [Fact]
    public void HostPhiloxMatchesRandom123KnownAnswers()
    {
        // Random123 tests/kat_vectors, the "philox4x32 10" lines: counter[4], key[2], result[4].
        Assert.Equal(new uint[] { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 }, Philox([0, 0, 0, 0], 0, 0));
        Assert.Equal(new uint[] { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd },
            Philox([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], 0xffffffff, 0xffffffff));
        Assert.Equal(new uint[] { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 },
            Philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], 0xa4093822, 0x299f31d0));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BitsAreHostPhilox(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        var zero = Generate<uint>(acc, 6, (s, view) => RandomNumbers.Bits(s, view, 0));
        Assert.Equal(new uint[] { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 }, zero[..4]);

        const int n = 1001;
        var bits = Generate<uint>(acc, n, (s, view) => RandomNumbers.Bits(s, view, Seed, Offset));
        Check.Equal<uint>(HostBits(n, Seed, Offset), bits, $"{accelerator} Bits vs host Philox", i => $"element {i}");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void UniformIsTopBitsScaledIntoRange(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        const int n = 1003;
        const float low = -2f, high = 3f;
        var values = Generate<float>(acc, n, (s, view) => RandomNumbers.Uniform(s, view, Seed, low, high, Offset));
        var bits = HostBits(n, Seed, Offset);
        var expected = new float[n];
        for (int i = 0; i < n; i++) expected[i] = (bits[i] >> 8) * (1f / 16777216f) * (high - low) + low;
        Check.Equal<float>(expected, values, $"{accelerator} Uniform vs host", i => $"element {i}");
        Assert.All(values, v => Assert.InRange(v, low, MathF.BitDecrement(high)));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void NormalIsBoxMuller(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        const int n = 4003;
        var values = Generate<float>(acc, n, (s, view) => RandomNumbers.Normal(s, view, Seed, 0f, 1f, Offset));
        var bits = HostBits(n + 3, Seed, Offset);
        var expected = new double[n];
        for (int i = 0; i < n; i++)
        {
            int pair = i & ~1;
            var (z0, z1) = BoxMuller(bits[pair], bits[pair + 1]);
            expected[i] = (i & 1) == 0 ? z0 : z1;
        }
        Check.Close(expected, FiniteDifference.ToDouble(values), 4e-6, 1e-6, $"{accelerator} Normal vs double Box-Muller", i => $"element {i}");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void TruncatedNormalRedrawsBeyondTwoStddev(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        const int n = 4003;
        const float mean = 1.5f, stddev = 0.5f;
        var values = Generate<float>(acc, n, (s, view) => RandomNumbers.TruncatedNormal(s, view, Seed, mean, stddev, Offset));
        var expected = new double[n];
        int redrawn = 0;
        for (int i = 0; i < n; i++)
        {
            // Element i: attempt r uses counter (i, r * 2^16, offset); candidates z0, z1 of (X, Y), then of (Z, W).
            for (uint attempt = 0; ; attempt++)
            {
                var w = Philox([(uint)i, attempt << 16, unchecked((uint)Offset), (uint)(Offset >> 32)], unchecked((uint)Seed), (uint)(Seed >> 32));
                var (z0, z1) = BoxMuller(w[0], w[1]);
                var (z2, z3) = BoxMuller(w[2], w[3]);
                double z = Math.Abs(z0) < 2 ? z0 : Math.Abs(z1) < 2 ? z1 : Math.Abs(z2) < 2 ? z2 : Math.Abs(z3) < 2 ? z3 : double.NaN;
                if (Math.Abs(z0) >= 2) redrawn++;
                if (double.IsNaN(z)) continue;
                expected[i] = mean + stddev * z;
                break;
            }
        }
        Assert.InRange(redrawn, 100, 300);   // about 4.55% of first candidates fall beyond 2 stddev
        Check.Close(expected, FiniteDifference.ToDouble(values), 4e-6, 1e-6, $"{accelerator} TruncatedNormal vs double reference", i => $"element {i}");
        Assert.All(values, v => Assert.True(Math.Abs(v - mean) < 2 * stddev, $"{v} lies 2 stddev or more from {mean}"));
    }

    [Theory, MemberData(nameof(Devices))]
    public void BitIdenticalToCpu(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        const int n = 100_003;
        foreach (var (name, fill) in Ops())
        {
            var expected = Generate<float>(TestAccelerators.Cpu, n, fill);
            var actual = Generate<float>(acc, n, fill);
            Check.Equal<float>(expected, actual, $"{accelerator} vs cpu {name}", i => $"element {i}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SeedAndOffsetSelectTheStream(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        TestAccelerators.SkipScaleTestOnDebugDevice(accelerator);
        const int n = 1001;
        foreach (var (name, _) in Ops())
        {
            var first = Generate<float>(acc, n, Op(name, 7, 0));
            var again = Generate<float>(acc, n, Op(name, 7, 0));
            var prefix = Generate<float>(acc, 10, Op(name, 7, 0));
            var otherSeed = Generate<float>(acc, n, Op(name, 8, 0));
            var otherOffset = Generate<float>(acc, n, Op(name, 7, 1));
            Check.Equal<float>(first, again, $"{accelerator} {name}: same seed and offset");
            Check.Equal<float>(first[..10], prefix, $"{accelerator} {name}: element i does not depend on the length");
            Assert.True(Differing(first, otherSeed) > n * 99 / 100, $"{name}: seeds 7 and 8 agree on {n - Differing(first, otherSeed)} of {n}");
            Assert.True(Differing(first, otherOffset) > n * 99 / 100, $"{name}: offsets 0 and 1 agree on {n - Differing(first, otherOffset)} of {n}");
        }
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void MomentsOfOneHundredThousandSamples(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        const int n = 100_000;
        // 5-sigma bounds: the mean's standard error is sigma / sqrt(n); the variance's is sqrt((mu4 - sigma^4) / n).

        // U[-1, 3): mean 1, variance 16/12, mu4 = 4^4 / 80.
        var uniform = Generate<float>(acc, n, (s, v) => RandomNumbers.Uniform(s, v, 11, -1f, 3f));
        var (uMean, uVar) = Moments(uniform);
        Assert.InRange(uMean, 1 - 5 * Math.Sqrt(16.0 / 12 / n), 1 + 5 * Math.Sqrt(16.0 / 12 / n));
        Assert.InRange(uVar, 16.0 / 12 - 5 * Math.Sqrt((256.0 / 80 - 256.0 / 144) / n), 16.0 / 12 + 5 * Math.Sqrt((256.0 / 80 - 256.0 / 144) / n));
        Assert.All(uniform, v => Assert.True(v >= -1f && v < 3f, $"{v} outside [-1, 3)"));

        // N(3, 2^2): mu4 - sigma^4 = 2 sigma^4.
        var normal = Generate<float>(acc, n, (s, v) => RandomNumbers.Normal(s, v, 12, 3f, 2f));
        var (nMean, nVar) = Moments(normal);
        Assert.InRange(nMean, 3 - 5 * 2 / Math.Sqrt(n), 3 + 5 * 2 / Math.Sqrt(n));
        Assert.InRange(nVar, 4 - 5 * Math.Sqrt(2.0 * 16 / n), 4 + 5 * Math.Sqrt(2.0 * 16 / n));

        // Standard normal truncated to (-2, 2): variance 1 - 4 phi(2) / Z = 0.773741 (std 0.879625), E[z^4] = 3 - 14 * 2 phi(2) / Z,
        // Z = erf(sqrt 2); scaled by stddev 2 around mean -1.
        var truncated = Generate<float>(acc, n, (s, v) => RandomNumbers.TruncatedNormal(s, v, 13, -1f, 2f));
        double phi2 = Math.Exp(-2) / Math.Sqrt(2 * Math.PI), z = 0.954499736103642;
        double variance = 1 - 4 * phi2 / z, fourth = 3 - 14 * 2 * phi2 / z;
        Assert.Equal(0.8796, Math.Sqrt(variance), 4);
        var (tMean, tVar) = Moments(truncated);
        Assert.InRange(tMean, -1 - 5 * 2 * Math.Sqrt(variance / n), -1 + 5 * 2 * Math.Sqrt(variance / n));
        double varianceError = 4 * Math.Sqrt((fourth - variance * variance) / n);
        Assert.InRange(tVar, 4 * variance - 5 * varianceError, 4 * variance + 5 * varianceError);
        Assert.All(truncated, v => Assert.True(Math.Abs(v + 1) < 4, $"{v} lies 2 stddev or more from -1"));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void EmptyOutputLaunchesNothing(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        foreach (var (name, fill) in Ops())
            Assert.Empty(Generate<float>(acc, 0, fill));
    }

    [Fact]
    public void ErrorsNameOpArgumentAndRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        var (buffer, view) = Host.Allocate<float>(acc, new Shape(8));
        using (buffer)
        {
            var range = Assert.Throws<ArgumentException>(() => RandomNumbers.Uniform(stream, view, 1, 2f, 2f));
            Assert.Contains("RandomNumbers.Uniform", range.Message);
            Assert.Contains("[2, 2)", range.Message);
            Assert.Contains("low < high", range.Message);
            var infinite = Assert.Throws<ArgumentException>(() => RandomNumbers.Uniform(stream, view, 1, 0f, float.PositiveInfinity));
            Assert.Contains("not finite", infinite.Message);
            var stddev = Assert.Throws<ArgumentException>(() => RandomNumbers.TruncatedNormal(stream, view, 1, 0f, -1f));
            Assert.Contains("RandomNumbers.TruncatedNormal", stddev.Message);
            Assert.Contains("stddev is -1", stddev.Message);
            var mean = Assert.Throws<ArgumentException>(() => RandomNumbers.Normal(stream, view, 1, float.NaN));
            Assert.Equal("mean", mean.ParamName);

            // A view shorter than its shape.
            var bad = new TensorView<float>(view.Data.SubView(0, 4), new Shape(8));
            var length = Assert.Throws<ArgumentException>(() => RandomNumbers.Normal(stream, bad, 1));
            Assert.Contains("[8]", length.Message);
            Assert.Contains("holds 4", length.Message);
        }
    }

    // ---- helpers ----

    private static IEnumerable<(string Name, Action<AcceleratorStream, TensorView<float>> Fill)> Ops() =>
        [("Uniform", Op("Uniform", Seed, Offset)), ("Normal", Op("Normal", Seed, Offset)), ("TruncatedNormal", Op("TruncatedNormal", Seed, Offset))];

    private static Action<AcceleratorStream, TensorView<float>> Op(string name, ulong seed, ulong offset) => name switch
    {
        "Uniform" => (s, v) => RandomNumbers.Uniform(s, v, seed, -1f, 1f, offset),
        "Normal" => (s, v) => RandomNumbers.Normal(s, v, seed, 0.5f, 2f, offset),
        _ => (s, v) => RandomNumbers.TruncatedNormal(s, v, seed, 0.5f, 2f, offset),
    };

    private static T[] Generate<T>(Accelerator acc, int n, Action<AcceleratorStream, TensorView<T>> fill) where T : unmanaged
    {
        var (buffer, view) = Host.Allocate<T>(acc, new Shape(n));
        using (buffer)
        {
            fill(acc.DefaultStream, view);
            acc.DefaultStream.Synchronize();
            return Host.Download(view);
        }
    }

    private static int Differing(float[] a, float[] b)
    {
        int count = 0;
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) count++;
        return count;
    }

    private static (double Mean, double Variance) Moments(float[] values)
    {
        double sum = 0;
        foreach (float v in values) sum += v;
        double mean = sum / values.Length, squares = 0;
        foreach (float v in values) squares += (v - mean) * (v - mean);
        return (mean, squares / values.Length);
    }

    /// <summary>Element i of Bits: word i % 4 of the block at counter (i / 4 as 64 bits, offset as 64 bits), key = seed.</summary>
    private static uint[] HostBits(int n, ulong seed, ulong offset)
    {
        var bits = new uint[n];
        for (int i = 0; i < n; i++)
        {
            ulong block = (ulong)i / 4;
            bits[i] = Philox([(uint)block, (uint)(block >> 32), (uint)offset, (uint)(offset >> 32)], (uint)seed, (uint)(seed >> 32))[i % 4];
        }
        return bits;
    }

    /// <summary>Box-Muller in double: u1 = ((a >> 8) + 1) 2^-24 in (0, 1], angle 2 pi (b >> 8) 2^-24.</summary>
    private static (double Z0, double Z1) BoxMuller(uint a, uint b)
    {
        double u1 = ((a >> 8) + 1) / 16777216.0;
        double angle = 2 * Math.PI * (b >> 8) / 16777216.0;
        double radius = Math.Sqrt(-2 * Math.Log(u1));
        return (radius * Math.Cos(angle), radius * Math.Sin(angle));
    }

    /// <summary>Philox4x32-10 as the Random123 paper writes it (arrays, one round at a time), independent of the kernel's helper.</summary>
    private static uint[] Philox(uint[] counter, uint key0, uint key1)
    {
        var x = (uint[])counter.Clone();
        uint k0 = key0, k1 = key1;
        for (int round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += 0x9E3779B9;
                k1 += 0xBB67AE85;
            }
            ulong product0 = 0xD2511F53UL * x[0];
            ulong product1 = 0xCD9E8D57UL * x[2];
            x = [(uint)(product1 >> 32) ^ x[1] ^ k0, (uint)product1, (uint)(product0 >> 32) ^ x[3] ^ k1, (uint)product0];
        }
        return x;
    }
}
