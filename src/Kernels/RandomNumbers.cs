// RandomNumbers: seeded, counter-based random tensors (tf.random_uniform, tf.random_normal, tf.truncated_normal)
// that are the same bit for bit on every accelerator.
//   output: any shape, filled in row-major order; element i depends only on (seed, offset, i)
//   Generator: Philox4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC11; Random123),
//   key = (low, high 32 bits of seed), counter = (c0, c1, low, high 32 bits of offset); each call gives 4 words.
//   Bits / Uniform / Normal: element i takes word i % 4 of counter (c0, c1) = block i / 4.
//   TruncatedNormal: element i draws 4 candidates per attempt r from counter (c0, c1) = (low 32 bits of i,
//     high 32 bits of i + r * 2^16), and keeps the first with |z| < 2 (TF's rule: redraw beyond 2 stddev).
//   Uniform u = (word >> 8) * 2^-24 in [0, 1), exact; value = u * (high - low) + low (TF's random_uniform).
//   Normal by Box-Muller: z0 = sqrt(-2 ln u1) cos(2 pi u2), z1 = sqrt(-2 ln u1) sin(2 pi u2) with u1 in (0, 1].
// The offset selects an independent stream: use a new offset (e.g. the step number) for each call that must
// differ, not a count of numbers already drawn. Identity across accelerators: integer Philox is exact, and ln, sin
// and cos are computed here with only +, -, *, / and bit manipulation (which every backend rounds correctly, with no
// FMA contraction) instead of the backends' transcendentals, which differ by ulps; sqrt is correctly rounded everywhere.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>
/// Seeded random tensors from the counter-based Philox4x32-10 generator: element i depends only on the seed, the offset
/// and i, and every accelerator produces the same bits. (Not named <c>Random</c>, which would hide <see cref="System.Random"/>.)
/// </summary>
public static class RandomNumbers
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;    // Philox4x32 multipliers
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;    // Weyl key increments (golden ratio, sqrt(3) - 1)
    private const float TwoToMinus24 = 5.9604644775390625e-8f;
    private const float TwoToMinus22 = 2.384185791015625e-7f;
    private const float HalfPi = 1.57079632679489662f;

    /// <summary>The attempts TruncatedNormal makes per element (4 candidates each); all 64 candidates fail with probability 0.0455^64.</summary>
    private const int MaxAttempts = 16;

    /// <summary>Fills <paramref name="output"/> with raw Philox4x32-10 words: element i is word i % 4 of the block at counter i / 4.</summary>
    /// <exception cref="ArgumentException">The view does not hold its shape, belongs to another accelerator, or has more than 2^33 elements.</exception>
    public static void Bits(AcceleratorStream stream, TensorView<uint> output, ulong seed, ulong offset = 0)
    {
        const string op = "RandomNumbers.Bits";
        int blocks = CheckOutput(op, stream, output);
        if (blocks == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<uint>, ulong, ulong>(BitsKernel)(stream, blocks, output.Data, seed, offset);
    }

    /// <summary>Fills <paramref name="output"/> with uniform values in [low, high): <c>u * (high - low) + low</c>, u a multiple of 2^-24 in [0, 1).</summary>
    /// <exception cref="ArgumentException">The view is unusable (see <see cref="Bits"/>), or low and high are not finite with low &lt; high.</exception>
    public static void Uniform(AcceleratorStream stream, TensorView<float> output, ulong seed, float low = 0f, float high = 1f, ulong offset = 0)
    {
        const string op = "RandomNumbers.Uniform";
        int blocks = CheckOutput(op, stream, output);
        if (!float.IsFinite(low) || !float.IsFinite(high) || !(low < high))
            throw new ArgumentException($"{op}: the range [low, high) = [{low}, {high}) is empty or not finite; it needs finite low < high.", nameof(high));
        if (blocks == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ulong, ulong, float, float>(UniformKernel)(
            stream, blocks, output.Data, seed, offset, low, high);
    }

    /// <summary>Fills <paramref name="output"/> with normal values <c>mean + stddev * z</c>, z standard normal by Box-Muller.</summary>
    /// <exception cref="ArgumentException">The view is unusable (see <see cref="Bits"/>), the mean is not finite, or stddev is negative or not finite.</exception>
    public static void Normal(AcceleratorStream stream, TensorView<float> output, ulong seed, float mean = 0f, float stddev = 1f, ulong offset = 0)
    {
        const string op = "RandomNumbers.Normal";
        int blocks = CheckOutput(op, stream, output);
        CheckNormal(op, mean, stddev);
        if (blocks == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ulong, ulong, float, float>(NormalKernel)(
            stream, blocks, output.Data, seed, offset, mean, stddev);
    }

    /// <summary>
    /// Fills <paramref name="output"/> like <c>tf.truncated_normal</c>: <c>mean + stddev * z</c> with z standard normal
    /// redrawn (from further counters) until |z| &lt; 2, so every value lies within 2 stddev of the mean.
    /// </summary>
    /// <exception cref="ArgumentException">The view is unusable (see <see cref="Bits"/>) or has more than int.MaxValue elements, the mean
    /// is not finite, or stddev is negative or not finite.</exception>
    public static void TruncatedNormal(AcceleratorStream stream, TensorView<float> output, ulong seed, float mean = 0f, float stddev = 1f, ulong offset = 0)
    {
        const string op = "RandomNumbers.TruncatedNormal";
        CheckOutput(op, stream, output);
        CheckNormal(op, mean, stddev);
        if (output.Shape.Size > int.MaxValue)
            throw new ArgumentException($"{op}: output {output.Shape} has {output.Shape.Size} elements; at most {int.MaxValue}.", nameof(output));
        if (output.Shape.Size == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ulong, ulong, float, float>(TruncatedNormalKernel)(
            stream, (int)output.Shape.Size, output.Data, seed, offset, mean, stddev);
    }

    // ---- kernels: one thread per Philox block of 4 elements (TruncatedNormal: per element) ----

    /// <summary>Raw words of block <paramref name="block"/>.</summary>
    public static void BitsKernel(Index1D block, ArrayView<uint> output, ulong seed, ulong offset)
    {
        long first = (long)block.X * 4;
        var words = Philox(Counter((ulong)block.X, 0, offset), seed);
        output[first] = words.X;
        if (first + 1 < output.Length) output[first + 1] = words.Y;
        if (first + 2 < output.Length) output[first + 2] = words.Z;
        if (first + 3 < output.Length) output[first + 3] = words.W;
    }

    /// <summary>Uniform values of block <paramref name="block"/>.</summary>
    public static void UniformKernel(Index1D block, ArrayView<float> output, ulong seed, ulong offset, float low, float high)
    {
        long first = (long)block.X * 4;
        var words = Philox(Counter((ulong)block.X, 0, offset), seed);
        float range = high - low;
        output[first] = UnitInterval(words.X) * range + low;
        if (first + 1 < output.Length) output[first + 1] = UnitInterval(words.Y) * range + low;
        if (first + 2 < output.Length) output[first + 2] = UnitInterval(words.Z) * range + low;
        if (first + 3 < output.Length) output[first + 3] = UnitInterval(words.W) * range + low;
    }

    /// <summary>Normal values of block <paramref name="block"/>: words (X, Y) give elements 0 and 1, (Z, W) elements 2 and 3.</summary>
    public static void NormalKernel(Index1D block, ArrayView<float> output, ulong seed, ulong offset, float mean, float stddev)
    {
        long first = (long)block.X * 4;
        var words = Philox(Counter((ulong)block.X, 0, offset), seed);
        float radius = BoxMullerRadius(words.X);
        output[first] = mean + stddev * (radius * BoxMullerCos(words.Y));
        if (first + 1 < output.Length) output[first + 1] = mean + stddev * (radius * BoxMullerSin(words.Y));
        if (first + 2 < output.Length)
        {
            float radius2 = BoxMullerRadius(words.Z);
            output[first + 2] = mean + stddev * (radius2 * BoxMullerCos(words.W));
            if (first + 3 < output.Length) output[first + 3] = mean + stddev * (radius2 * BoxMullerSin(words.W));
        }
    }

    /// <summary>One truncated-normal element: candidates in the order z0, z1 of (X, Y), then of (Z, W), attempt after attempt.</summary>
    public static void TruncatedNormalKernel(Index1D index, ArrayView<float> output, ulong seed, ulong offset, float mean, float stddev)
    {
        ulong i = (ulong)index.X;
        float z = 0f;   // the mean, should all 64 candidates fail (probability about 1e-86)
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var words = Philox(Counter(i, (uint)attempt << 16, offset), seed);
            float radius = BoxMullerRadius(words.X);
            float z0 = radius * BoxMullerCos(words.Y);
            if (MathF.Abs(z0) < 2f) { z = z0; break; }
            float z1 = radius * BoxMullerSin(words.Y);
            if (MathF.Abs(z1) < 2f) { z = z1; break; }
            float radius2 = BoxMullerRadius(words.Z);
            float z2 = radius2 * BoxMullerCos(words.W);
            if (MathF.Abs(z2) < 2f) { z = z2; break; }
            float z3 = radius2 * BoxMullerSin(words.W);
            if (MathF.Abs(z3) < 2f) { z = z3; break; }
        }
        output[index] = mean + stddev * z;
    }

    // ---- Philox4x32-10 ----

    /// <summary>The 128-bit counter: <paramref name="unit"/> in words 0-1 (plus <paramref name="high"/> in word 1), the offset in words 2-3.</summary>
    internal static Words Counter(ulong unit, uint high, ulong offset) =>
        new Words((uint)unit, (uint)(unit >> 32) + high, (uint)offset, (uint)(offset >> 32));

    /// <summary>Philox4x32 with 10 rounds of counter <paramref name="counter"/> under key (low, high 32 bits of <paramref name="seed"/>).</summary>
    internal static Words Philox(Words counter, ulong seed)
    {
        uint k0 = (uint)seed;
        uint k1 = (uint)(seed >> 32);
        uint x = counter.X, y = counter.Y, z = counter.Z, w = counter.W;
        for (int round = 0; round < 10; round++)
        {
            // The 32 x 32 -> 64-bit products give the high and low halves (mulhilo).
            ulong p0 = (ulong)M0 * x;
            ulong p1 = (ulong)M1 * z;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0;
            uint hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            x = hi1 ^ y ^ k0;
            y = lo1;
            z = hi0 ^ w ^ k1;
            w = lo0;
            k0 += W0;
            k1 += W1;
        }
        return new Words(x, y, z, w);
    }

    // ---- uniform and Box-Muller from words, with +, -, *, / only ----

    /// <summary>The top 24 bits as a multiple of 2^-24 in [0, 1) (exact).</summary>
    private static float UnitInterval(uint word) => (float)(word >> 8) * TwoToMinus24;

    /// <summary>sqrt(-2 ln u) for u = ((word >> 8) + 1) * 2^-24 in (0, 1], so never infinite (at most about 5.77).</summary>
    private static float BoxMullerRadius(uint word)
    {
        float u = (float)((word >> 8) + 1) * TwoToMinus24;
        return MathF.Sqrt(-2f * Log(u));
    }

    /// <summary>cos(2 pi t / 2^24) for the top 24 bits t of <paramref name="word"/>.</summary>
    private static float BoxMullerCos(uint word)
    {
        uint t = word >> 8;
        uint quadrant = t >> 22;
        uint within = t & 0x3FFFFF;
        // cos(q pi/2 + phi) is cos(phi), -sin(phi), -cos(phi), sin(phi) for q = 0..3.
        float value = quadrant == 0 || quadrant == 2 ? QuarterCos(within) : QuarterSin(within);
        return quadrant == 1 || quadrant == 2 ? -value : value;
    }

    /// <summary>sin(2 pi t / 2^24) for the top 24 bits t of <paramref name="word"/>.</summary>
    private static float BoxMullerSin(uint word)
    {
        uint t = word >> 8;
        uint quadrant = t >> 22;
        uint within = t & 0x3FFFFF;
        // sin(q pi/2 + phi) is sin(phi), cos(phi), -sin(phi), -cos(phi) for q = 0..3.
        float value = quadrant == 0 || quadrant == 2 ? QuarterSin(within) : QuarterCos(within);
        return quadrant >= 2 ? -value : value;
    }

    /// <summary>sin(phi) for phi = (pi/2) * within / 2^22 in [0, pi/2): reduced exactly to [0, pi/4] by sin(phi) = cos(pi/2 - phi).</summary>
    private static float QuarterSin(uint within) =>
        within <= 0x200000 ? SinPoly(HalfPi * ((float)within * TwoToMinus22)) : CosPoly(HalfPi * ((float)(0x400000 - within) * TwoToMinus22));

    /// <summary>cos(phi) for phi = (pi/2) * within / 2^22 in [0, pi/2), reduced like <see cref="QuarterSin"/>.</summary>
    private static float QuarterCos(uint within) =>
        within <= 0x200000 ? CosPoly(HalfPi * ((float)within * TwoToMinus22)) : SinPoly(HalfPi * ((float)(0x400000 - within) * TwoToMinus22));

    /// <summary>sin x on [0, pi/4] by its Taylor series to x^9 (truncation below 2e-9).</summary>
    private static float SinPoly(float x)
    {
        float x2 = x * x;
        return x + x * x2 * (-1f / 6f + x2 * (1f / 120f + x2 * (-1f / 5040f + x2 * (1f / 362880f))));
    }

    /// <summary>cos x on [0, pi/4] by its Taylor series to x^10 (truncation below 2e-10).</summary>
    private static float CosPoly(float x)
    {
        float x2 = x * x;
        return 1f + x2 * (-0.5f + x2 * (1f / 24f + x2 * (-1f / 720f + x2 * (1f / 40320f + x2 * (-1f / 3628800f)))));
    }

    /// <summary>
    /// ln x for positive normal x (FreeBSD msun e_logf.c): x = 2^k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)),
    /// ln(1 + f) = 2 atanh(s) with s = f / (2 + f), the odd series by a degree-4 minimax polynomial in s^2 (error below 2^-34).
    /// </summary>
    private static float Log(float x)
    {
        const float Ln2Hi = 6.9313812256e-01f, Ln2Lo = 9.0580006145e-06f;
        const float Lg1 = 0.66666662693f, Lg2 = 0.40000972152f, Lg3 = 0.28498786688f, Lg4 = 0.24279078841f;
        int bits = BitConverter.SingleToInt32Bits(x);
        int k = (bits >> 23) - 127;
        bits &= 0x007FFFFF;
        int half = (bits + 0x4AFB0D) & 0x800000;   // set when the mantissa is at least sqrt(2): use (1 + f) / 2
        float reduced = BitConverter.Int32BitsToSingle(bits | (half ^ 0x3F800000));
        k += half >> 23;
        float f = reduced - 1f;
        float s = f / (2f + f);
        float dk = (float)k;
        float z = s * s;
        float w = z * z;
        float t1 = w * (Lg2 + w * Lg4);
        float t2 = z * (Lg1 + w * Lg3);
        float r = t2 + t1;
        float hfsq = 0.5f * f * f;
        return dk * Ln2Hi - ((hfsq - (s * (hfsq + r) + dk * Ln2Lo)) - f);
    }

    // ---- host-side checks ----

    /// <summary>Checks the output view and returns the number of Philox blocks (threads) it needs.</summary>
    private static int CheckOutput<T>(string op, AcceleratorStream stream, TensorView<T> output) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        ShapeCheck.View(op, nameof(output), output);
        ShapeCheck.SameAccelerator(op, stream, nameof(output), output);
        long blocks = (output.Shape.Size + 3) / 4;
        if (blocks > int.MaxValue)
            throw new ArgumentException($"{op}: output {output.Shape} has {output.Shape.Size} elements; at most 4 * {int.MaxValue}.", nameof(output));
        return (int)blocks;
    }

    private static void CheckNormal(string op, float mean, float stddev)
    {
        if (!float.IsFinite(mean))
            throw new ArgumentException($"{op}: mean is {mean}; it must be finite.", nameof(mean));
        if (!float.IsFinite(stddev) || stddev < 0f)
            throw new ArgumentException($"{op}: stddev is {stddev}; it must be finite and zero or positive.", nameof(stddev));
    }
}

/// <summary>Four 32-bit words: a Philox counter or its output.</summary>
internal struct Words
{
    public uint X, Y, Z, W;

    public Words(uint x, uint y, uint z, uint w)
    {
        X = x;
        Y = y;
        Z = z;
        W = w;
    }
}
