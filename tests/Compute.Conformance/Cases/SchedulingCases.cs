namespace GpuDeconv.Compute.Conformance;

// Every index and every group of a launch runs exactly once, however the accelerator spreads them: the CPU accelerator
// runs a launch's first items on the calling thread and hands the rest to the thread pool in parts once they have
// taken a while, so the cases use bodies slow enough to cross that point and sizes around the part boundaries.
// Each item also computes a hash the host recomputes, so an item that ran with the wrong index shows too.
internal static class SchedulingCases
{
    // Rounds of the hash per item: a few microseconds on a CPU core.
    private const int Rounds = 2000;

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("scheduling.implicit-every-index-once", "scheduling", Implicit);
        yield return new("scheduling.grouped-every-lane-once", "scheduling", Grouped);
    }

    private static uint Hash(uint seed, int rounds)
    {
        uint v = seed;
        for (int k = 0; k < rounds; k++) v = v * 1664525u + 1013904223u;
        return v;
    }

    private static void CountKernel(Index1D index, ArrayView<int> counts, ArrayView<uint> hashes, int rounds)
    {
        hashes[index] = Hash((uint)index.X, rounds);
        Atomic.Add(ref counts[index], 1);
    }

    private static void GroupedCountKernel(ArrayView<int> counts, ArrayView<uint> hashes, int rounds)
    {
        int index = Grid.GlobalIndex.X;
        hashes[index] = Hash((uint)index, rounds);
        Atomic.Add(ref counts[index], 1);
    }

    private static void Implicit(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<uint>, int>(CountKernel);
        foreach (int n in new[] { 1, 2, 3, 17, 1000, 4099 })
        {
            using var counts = accelerator.Allocate1D<int>(n);
            using var hashes = accelerator.Allocate1D<uint>(n);
            counts.MemSetToZero();
            kernel(n, counts.View, hashes.View, Rounds);
            accelerator.Synchronize();
            Expect(n, counts.GetAsArray1D(), hashes.GetAsArray1D(), $"implicit launch of {n}");
        }
    }

    private static void Grouped(Accelerator accelerator)
    {
        var kernel = accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<uint>, int>(GroupedCountKernel);
        foreach (var (groups, size) in new[] { (1, 1), (3, 1), (1, 16), (7, 5), (150, 16), (1001, 3) })
        {
            int n = groups * size;
            using var counts = accelerator.Allocate1D<int>(n);
            using var hashes = accelerator.Allocate1D<uint>(n);
            counts.MemSetToZero();
            kernel(new KernelConfig(groups, size), counts.View, hashes.View, Rounds);
            accelerator.Synchronize();
            Expect(n, counts.GetAsArray1D(), hashes.GetAsArray1D(), $"{groups} groups of {size}");
        }
    }

    private static void Expect(int n, int[] counts, uint[] hashes, string what)
    {
        Check.Equal<int>(Enumerable.Repeat(1, n).ToArray(), counts, $"{what}: times each index ran");
        Check.Equal<uint>(Enumerable.Range(0, n).Select(i => Hash((uint)i, Rounds)).ToArray(), hashes, $"{what}: hash of each index");
    }
}
