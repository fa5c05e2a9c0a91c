namespace GpuDeconv.Compute.Conformance;

// Float8: every operation lane by lane against .NET's scalar arithmetic, bit for bit. The fused multiply-add must
// round once (values chosen so that a separate multiply and add give another answer), and the partial loads and
// stores must touch exactly the first count elements. StoreIndices and LoadOffsets convert between float positions and
// 64-bit indices: whole positions exactly, offsets past 2^24 rounded to nearest (ties to even), as .NET's casts do.
internal static class Float8Cases
{
    private const int Lanes = 64;
    private const int Results = 4;
    private const float Sentinel = -7.5f;

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("float8.arithmetic", "float8", Arithmetic);
        yield return new("float8.partial", "float8", Partial);
        yield return new("float8.select", "float8", Select);
        yield return new("float8.indices", "float8", Indices);
    }

    private static float[] Values(int seed)
    {
        var random = new Random(seed);
        var values = new float[Lanes * 8];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 8 - 4);
        // (1 + 2^-23)(1 - 2^-23) - 1 is -2^-46 fused but 0 when the product is rounded first.
        values[0] = 1f + MathF.Pow(2, -23);
        values[1] = float.NaN;
        values[2] = float.PositiveInfinity;
        values[3] = -0f;
        return values;
    }

    private static void ArithmeticKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> output)
    {
        var x = Float8.Load(a, i * 8);
        var y = Float8.Load(b, i * 8);
        var z = Float8.Load(c, i * 8);
        long o = (long)i * 8 * Results;
        Float8.Store(Float8.FusedMultiplyAdd(x, y, z), output, o);
        Float8.Store(Float8.Add(x, y), output, o + 8);
        Float8.Store(Float8.Multiply(x, z), output, o + 16);
        Float8.Store(Float8.Splat(a[i]), output, o + 24);
    }

    private static void Arithmetic(Accelerator accelerator)
    {
        float[] a = Values(1), b = Values(2), c = Values(3);
        b[0] = 1f - MathF.Pow(2, -23);
        c[0] = -1f;
        using var av = accelerator.Allocate1D(a);
        using var bv = accelerator.Allocate1D(b);
        using var cv = accelerator.Allocate1D(c);
        using var output = accelerator.Allocate1D<float>(Lanes * 8 * Results);
        accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ArithmeticKernel)(
            Lanes, av.View, bv.View, cv.View, output.View);
        float[] actual = output.GetAsArray1D();
        var expected = new float[actual.Length];
        for (int i = 0; i < Lanes; i++)
        {
            for (int lane = 0; lane < 8; lane++)
            {
                int e = i * 8 + lane, o = i * 8 * Results + lane;
                expected[o] = MathF.FusedMultiplyAdd(a[e], b[e], c[e]);
                expected[o + 8] = a[e] + b[e];
                expected[o + 16] = a[e] * c[e];
                expected[o + 24] = a[i];
            }
        }
        Check.True(expected[0] == -MathF.Pow(2, -46), "the reference's fused multiply-add rounds once");
        Check.Equal<float>(expected, actual, "Float8 results", k => $"lane {k / (8 * Results)}, op {k / 8 % Results} (fma, add, multiply, splat), element {k % 8}");
    }

    private static void PartialKernel(Index1D i, ArrayView<float> source, ArrayView<float> output)
    {
        // Lane i loads count = i % 10 - 1 (-1 .. 8) elements and stores count2 = i % 9 of them.
        var x = Float8.LoadPartial(source, i * 8, i % 10 - 1);
        Float8.StorePartial(x, output, i * 8, i % 9);
    }

    private static void Partial(Accelerator accelerator)
    {
        float[] source = Values(4);
        var initial = new float[source.Length];
        Array.Fill(initial, Sentinel);
        using var sv = accelerator.Allocate1D(source);
        using var output = accelerator.Allocate1D(initial);
        accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(PartialKernel)(Lanes, sv.View, output.View);
        float[] actual = output.GetAsArray1D();
        var expected = new float[actual.Length];
        for (int i = 0; i < Lanes; i++)
        {
            int loaded = i % 10 - 1, stored = i % 9;
            for (int lane = 0; lane < 8; lane++)
                expected[i * 8 + lane] = lane >= stored ? Sentinel : lane < loaded ? source[i * 8 + lane] : 0f;
        }
        Check.Equal<float>(expected, actual, "partial load then store", k => $"lane {k / 8} (load {k / 8 % 10 - 1}, store {k / 8 % 9}), element {k % 8}");
    }

    private static void SelectKernel(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> output)
    {
        var x = Float8.Load(a, i * 8);
        var y = Float8.Load(b, i * 8);
        long o = (long)i * 16;
        Float8.Store(Float8.SelectIfAbove(x, y, Float8.Splat(1f), Float8.Splat(-1f)), output, o);
        Float8.Store(Float8.SelectIfAbove(x, y, x, y), output, o + 8);
    }

    // Every ordered pair of the special values (NaN, infinities, signed zeros, equal numbers), then random pairs: the
    // mask must be candidate > current or (candidate NaN and current not), and the running maximum keeps the bits of
    // the value it picks (which of -0 and +0, which NaN).
    private static void Select(Accelerator accelerator)
    {
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1f, -1f, 2.5f];
        float[] a = Values(5), b = Values(6);
        for (int p = 0; p < specials.Length * specials.Length; p++)
        {
            a[p] = specials[p / specials.Length];
            b[p] = specials[p % specials.Length];
        }
        using var av = accelerator.Allocate1D(a);
        using var bv = accelerator.Allocate1D(b);
        using var output = accelerator.Allocate1D<float>(Lanes * 16);
        accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(SelectKernel)(
            Lanes, av.View, bv.View, output.View);
        float[] actual = output.GetAsArray1D();
        var expected = new float[actual.Length];
        for (int i = 0; i < Lanes; i++)
        {
            for (int lane = 0; lane < 8; lane++)
            {
                int e = i * 8 + lane;
                bool above = a[e] > b[e] || (float.IsNaN(a[e]) && !float.IsNaN(b[e]));
                expected[i * 16 + lane] = above ? 1f : -1f;
                expected[i * 16 + 8 + lane] = above ? a[e] : b[e];
            }
        }
        Check.Equal<float>(expected, actual, "SelectIfAbove", k => $"pair {k / 16 * 8 + k % 8} ({a[k / 16 * 8 + k % 8]} vs {b[k / 16 * 8 + k % 8]}), {(k % 16 < 8 ? "mask" : "running max")}");
    }

    private static long Origin(int i) => (i - 20) * 3_000_000_007L;

    private static void IndicesKernel(Index1D i, ArrayView<float> positions, ArrayView<long> indices, ArrayView<long> switches, ArrayView<float> offsets)
    {
        // Lane i writes count = i % 10 - 1 (-1 .. 8) indices, and reads i % 9 offsets back from other switches.
        Float8.StoreIndices(Float8.Load(positions, i * 8), Origin(i), i % 7 - 3, indices, i * 8, i % 10 - 1);
        Float8.Store(Float8.LoadOffsets(switches, i * 8, Origin(i), i % 9), offsets, i * 8);
    }

    private static void Indices(Accelerator accelerator)
    {
        var random = new Random(7);
        var positions = new float[Lanes * 8];
        var switches = new long[Lanes * 8];
        for (int e = 0; e < positions.Length; e++)
        {
            int i = e / 8, lane = e % 8;
            // Whole positions across int's range (cells far past 2^24 included); offsets small, at 2^24 and past it.
            positions[e] = e % 3 == 0 ? random.Next(-100, 100) : (float)Math.Round((random.NextDouble() * 2 - 1) * 2e9);
            long offset = (e % 4) switch
            {
                0 => random.Next(-5000, 5000),
                1 => (1L << 24) + random.Next(-3, 4),
                2 => -(1L << 25) - random.Next(0, 8),
                _ => random.NextInt64(-(1L << 40), 1L << 40),
            };
            switches[e] = Origin(i) + lane + offset;
        }
        var initial = new long[positions.Length];
        Array.Fill(initial, long.MinValue);
        using var pv = accelerator.Allocate1D(positions);
        using var iv = accelerator.Allocate1D(initial);
        using var sv = accelerator.Allocate1D(switches);
        using var ov = accelerator.Allocate1D<float>(positions.Length);
        accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<long>, ArrayView<float>>(IndicesKernel)(
            Lanes, pv.View, iv.View, sv.View, ov.View);
        long[] indices = iv.GetAsArray1D();
        float[] offsets = ov.GetAsArray1D();
        var expectedIndices = new long[indices.Length];
        var expectedOffsets = new float[offsets.Length];
        for (int e = 0; e < positions.Length; e++)
        {
            int i = e / 8, lane = e % 8;
            expectedIndices[e] = lane < i % 10 - 1 ? Origin(i) + (long)positions[e] * (i % 7 - 3) + lane : long.MinValue;
            expectedOffsets[e] = lane < i % 9 ? (float)(switches[e] - Origin(i) - lane) : 0f;
        }
        Check.Equal<long>(expectedIndices, indices, "StoreIndices", k => $"lane {k / 8} (count {k / 8 % 10 - 1}), element {k % 8}, position {positions[k]}");
        Check.Equal<float>(expectedOffsets, offsets, "LoadOffsets", k => $"lane {k / 8} (count {k / 8 % 9}), element {k % 8}, switch {switches[k]}");
    }
}
