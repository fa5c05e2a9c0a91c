namespace GpuDeconv.Compute.Conformance;

// Every Atomic operation under contention. Results are order-independent (sums, min/max,
// bit operations) or checked as invariants that hold for any interleaving (exchange chains,
// CAS tickets form a permutation).
internal static class AtomicCases
{
    private const int Bins = 64;
    private const int N = 20000;

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("atomics.int32-histogram", "atomics", Histogram);
        yield return new("atomics.int32-min-max-bits", "atomics", Int32MinMaxBits);
        yield return new("atomics.uint32-all", "atomics", UInt32All);
        yield return new("atomics.int32-exchange", "atomics", Exchange);
        yield return new("atomics.int32-cas-counter", "atomics", CasCounter);
        yield return new("atomics.float32-add-min-max", "atomics", Float32);
        yield return new("atomics.int64", "atomics", Int64);
        yield return new("atomics.float64-add", "atomics", Float64);
    }

    private static int[] Data(int seed, int max)
    {
        var random = new Random(seed);
        var data = new int[N];
        for (int i = 0; i < N; i++) data[i] = random.Next(max);
        return data;
    }

    private static void HistogramKernel(Index1D index, ArrayView<int> data, ArrayView<int> histogram, ArrayView<int> olds)
    {
        // The returned old value is below the final count of the bin.
        olds[index] = Atomic.Add(ref histogram[data[index]], 1);
    }

    private static void Histogram(Accelerator accelerator)
    {
        int[] data = Data(1, Bins);
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>>(HistogramKernel);
        using var input = accelerator.Allocate1D(data);
        using var histogram = accelerator.Allocate1D<int>(Bins);
        using var olds = accelerator.Allocate1D<int>(N);
        histogram.MemSetToZero();
        kernel(N, input.View, histogram.View, olds.View);
        var expected = new int[Bins];
        foreach (int d in data) expected[d]++;
        Check.Equal<int>(expected, histogram.GetAsArray1D(), "Atomic.Add histogram");

        // The old values of one bin are exactly 0..count-1 in some order.
        int[] oldValues = olds.GetAsArray1D();
        var seen = new bool[Bins][];
        for (int b = 0; b < Bins; b++) seen[b] = new bool[expected[b]];
        for (int i = 0; i < N; i++)
        {
            int b = data[i], old = oldValues[i];
            Check.True(old >= 0 && old < expected[b] && !seen[b][old], $"Atomic.Add returned old value {old} at [{i}] for bin {b} holding {expected[b]}: not a unique value in [0, {expected[b]}).");
            seen[b][old] = true;
        }
    }

    private static void Int32Kernel(Index1D index, ArrayView<int> data, ArrayView<int> results)
    {
        int v = data[index] - 500000;
        Atomic.Min(ref results[0], v);
        Atomic.Max(ref results[1], v);
        Atomic.And(ref results[2], ~(1 << (index % 31)) | (index % 7 == 0 ? -1 : 0));
        Atomic.Or(ref results[3], 1 << (data[index] % 29));
        Atomic.Xor(ref results[4], v);
        Atomic.Add(ref results[5], v);
        Atomic.Add(ref results[6], -1);
    }

    private static void Int32MinMaxBits(Accelerator accelerator)
    {
        int[] data = Data(2, 1000000);
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(Int32Kernel);
        using var input = accelerator.Allocate1D(data);
        using var results = accelerator.Allocate1D(new[] { int.MaxValue, int.MinValue, -1, 0, 0, 0, 0 });
        kernel(N, input.View, results.View);
        int[] expected = [int.MaxValue, int.MinValue, -1, 0, 0, 0, 0];
        for (int i = 0; i < N; i++)
        {
            int v = data[i] - 500000;
            expected[0] = Math.Min(expected[0], v);
            expected[1] = Math.Max(expected[1], v);
            expected[2] &= ~(1 << (i % 31)) | (i % 7 == 0 ? -1 : 0);
            expected[3] |= 1 << (data[i] % 29);
            expected[4] ^= v;
            expected[5] += v;
            expected[6] -= 1;
        }
        Check.Equal<int>(expected, results.GetAsArray1D(), "int32 Atomic Min/Max/And/Or/Xor/Add",
            i => new[] { "Min", "Max", "And", "Or", "Xor", "Add", "Add(-1)" }[i]);
    }

    private static void UInt32Kernel(Index1D index, ArrayView<uint> data, ArrayView<uint> results, ArrayView<uint> tickets)
    {
        uint v = data[index];
        Atomic.Min(ref results[0], v);
        Atomic.Max(ref results[1], v);
        Atomic.And(ref results[2], v | 0xF0F0F0F0u);
        Atomic.Or(ref results[3], v & 0x0101u);
        Atomic.Xor(ref results[4], v);
        Atomic.Add(ref results[5], v);
        // CAS increment: the value we saw is our unique ticket.
        uint old = results[6];
        while (true)
        {
            uint seen = Atomic.CompareExchange(ref results[6], old, old + 1u);
            if (seen == old) break;
            old = seen;
        }
        tickets[index] = old;
        Atomic.Exchange(ref results[7], 12345u);
    }

    private static void UInt32All(Accelerator accelerator)
    {
        uint[] data = Array.ConvertAll(Data(3, int.MaxValue), v => (uint)v * 2u + 1u);
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>>(UInt32Kernel);
        using var input = accelerator.Allocate1D(data);
        using var results = accelerator.Allocate1D(new[] { uint.MaxValue, 0u, uint.MaxValue, 0u, 0u, 0u, 0u, 0u });
        using var tickets = accelerator.Allocate1D<uint>(N);
        kernel(N, input.View, results.View, tickets.View);
        uint[] expected = [uint.MaxValue, 0u, uint.MaxValue, 0u, 0u, 0u, N, 12345u];
        foreach (uint v in data)
        {
            expected[0] = Math.Min(expected[0], v);
            expected[1] = Math.Max(expected[1], v);
            expected[2] &= v | 0xF0F0F0F0u;
            expected[3] |= v & 0x0101u;
            expected[4] ^= v;
            expected[5] += v; // wraps, as on the device
        }
        Check.Equal<uint>(expected, results.GetAsArray1D(), "uint32 Atomic Min/Max/And/Or/Xor/Add/CAS/Exchange",
            i => new[] { "Min", "Max", "And", "Or", "Xor", "Add", "CAS counter", "Exchange" }[i]);
        CheckPermutation(Array.ConvertAll(tickets.GetAsArray1D(), t => (int)t), "uint32 CAS tickets");
    }

    private static void ExchangeKernel(Index1D index, ArrayView<int> slot, ArrayView<int> olds) =>
        olds[index] = Atomic.Exchange(ref slot[0], index + 1);

    private static void Exchange(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(ExchangeKernel);
        using var slot = accelerator.Allocate1D<int>(1);
        using var olds = accelerator.Allocate1D<int>(N);
        slot.MemSetToZero();
        kernel(N, slot.View, olds.View);
        // Every value ever stored (0 initially, then 1..N) is returned exactly once, except the
        // one left in the slot: together they are a permutation of 0..N.
        int[] all = [.. olds.GetAsArray1D(), slot.GetAsArray1D()[0]];
        CheckPermutation(all, "Atomic.Exchange chain (old values + final value)");
    }

    private static void CasKernel(Index1D index, ArrayView<int> counter, ArrayView<int> tickets)
    {
        int old = counter[0];
        int seen = Atomic.CompareExchange(ref counter[0], old, old + 1);
        while (seen != old)
        {
            old = seen;
            seen = Atomic.CompareExchange(ref counter[0], old, old + 1);
        }
        tickets[index] = old;
    }

    private static void CasCounter(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(CasKernel);
        using var counter = accelerator.Allocate1D<int>(1);
        using var tickets = accelerator.Allocate1D<int>(N);
        counter.MemSetToZero();
        kernel(N, counter.View, tickets.View);
        Check.Equal(N, counter.GetAsArray1D()[0], "CAS counter after N increments");
        CheckPermutation(tickets.GetAsArray1D(), "CAS tickets");
    }

    private static void FloatKernel(Index1D index, ArrayView<float> data, ArrayView<float> results)
    {
        Atomic.Add(ref results[0], 1.0f);
        Atomic.Max(ref results[1], data[index]);
        Atomic.Min(ref results[2], data[index]);
        Atomic.Add(ref results[3], data[index]);
    }

    private static void Float32(Accelerator accelerator)
    {
        var random = new Random(4);
        // Quarter-integers below 2^11: every partial sum of N of them is exact in float.
        float[] data = new float[N];
        for (int i = 0; i < N; i++) data[i] = random.Next(-200, 200) * 0.25f;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>>(FloatKernel);
        using var input = accelerator.Allocate1D(data);
        using var results = accelerator.Allocate1D(new[] { 0f, float.NegativeInfinity, float.PositiveInfinity, 0f });
        kernel(N, input.View, results.View);
        float sum = 0;
        foreach (float v in data) sum += v;
        Check.Equal<float>([N, data.Max(), data.Min(), sum], results.GetAsArray1D(), "float Atomic Add(1.0f)/Max/Min/Add(data)",
            i => new[] { "sum of 1.0f", "Max", "Min", "sum of data" }[i]);
    }

    private static void Int64Kernel(Index1D index, ArrayView<long> data, ArrayView<long> results, ArrayView<ulong> unsigned)
    {
        long v = data[index];
        Atomic.Add(ref results[0], v);
        Atomic.Max(ref results[1], v);
        Atomic.Min(ref results[2], v);
        Atomic.Or(ref results[3], 1L << (index % 64));
        Atomic.CompareExchange(ref results[4], 0L, v);
        Atomic.Add(ref unsigned[0], (ulong)v);
        Atomic.Max(ref unsigned[1], (ulong)v);
    }

    private static void Int64(Accelerator accelerator)
    {
        var random = new Random(5);
        long[] data = new long[N];
        for (int i = 0; i < N; i++) data[i] = random.NextInt64(-(1L << 40), 1L << 40);
        var kernel = LoadOrSkip(accelerator, "64-bit integer atomics",
            () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<long>, ArrayView<long>, ArrayView<ulong>>(Int64Kernel));
        using var input = accelerator.Allocate1D(data);
        using var results = accelerator.Allocate1D(new[] { 0L, long.MinValue, long.MaxValue, 0L, 0L });
        using var unsigned = accelerator.Allocate1D(new[] { 0ul, 0ul });
        kernel(N, input.View, results.View, unsigned.View);
        long[] actual = results.GetAsArray1D();
        Check.Equal<long>([data.Sum(), data.Max(), data.Min(), -1L], actual.AsSpan(0, 4), "int64 Atomic Add/Max/Min/Or",
            i => new[] { "Add", "Max", "Min", "Or" }[i]);
        Check.True(Array.IndexOf(data, actual[4]) >= 0 && actual[4] != 0, $"int64 CompareExchange(0 -> v) left {actual[4]}, which is not one of the data values.");
        ulong usum = 0, umax = 0;
        foreach (long v in data)
        {
            usum += (ulong)v;
            umax = Math.Max(umax, (ulong)v);
        }
        Check.Equal<ulong>([usum, umax], unsigned.GetAsArray1D(), "uint64 Atomic Add/Max");
    }

    private static void Float64Kernel(Index1D index, ArrayView<double> data, ArrayView<double> results)
    {
        Atomic.Add(ref results[0], data[index]);
        Atomic.Max(ref results[1], data[index]);
    }

    private static void Float64(Accelerator accelerator)
    {
        var random = new Random(6);
        double[] data = new double[N];
        for (int i = 0; i < N; i++) data[i] = random.Next(-1000, 1000) * 0.5;
        var kernel = LoadOrSkip(accelerator, "double atomics",
            () => accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>>(Float64Kernel));
        using var input = accelerator.Allocate1D(data);
        using var results = accelerator.Allocate1D(new[] { 0d, double.NegativeInfinity });
        kernel(N, input.View, results.View);
        Check.Equal<double>([data.Sum(), data.Max()], results.GetAsArray1D(), "double Atomic Add/Max (half-integers: exact)");
    }

    // Loads a kernel whose features the device may lack; a NotSupportedException becomes a skip.
    internal static T LoadOrSkip<T>(Accelerator accelerator, string feature, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (NotSupportedException e)
        {
            throw new ConformanceSkip($"{accelerator} does not support {feature}: {e.Message}");
        }
    }

    private static void CheckPermutation(int[] values, string what)
    {
        var seen = new bool[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int v = values[i];
            Check.True(v >= 0 && v < values.Length && !seen[v],
                $"{what}: value {v} at [{i}] is out of [0, {values.Length}) or repeated; expected a permutation.");
            seen[v] = true;
        }
    }
}
