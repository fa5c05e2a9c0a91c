namespace GpuDeconv.Compute.Conformance;

// Explicitly grouped kernels: static and dynamic shared memory, barriers and their reductions,
// and the Grid/Group index intrinsics in 1-D, 2-D and 3-D launches.
internal static class GroupCases
{
    private const int ReduceGroupSize = 64;

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("shared.static-reduction", "shared", StaticReduction);
        yield return new("shared.dynamic-reverse", "shared", DynamicReverse);
        yield return new("shared.private-helper-reverse", "shared", PrivateHelperReverse);
        yield return new("shared.variable-atomic", "shared", SharedVariable);
        yield return new("shared.barrier-popcount-and-or", "shared", BarrierReductions);
        yield return new("indices.explicit-1d", "shared", c => Indices(c, new Index3D(5, 1, 1), new Index3D(Math.Min(32, c.MaxNumThreadsPerGroup), 1, 1)));
        yield return new("indices.explicit-2d", "shared", c => Indices(c, new Index3D(3, 4, 1), new Index3D(4, 3, 1)));
        yield return new("indices.explicit-3d", "shared", c => Indices(c, new Index3D(2, 3, 2), new Index3D(2, 2, 3)));
    }

    // Tree reduction in static shared memory: each group sums its 64 inputs.
    // Private helpers called from a barrier kernel: the CPU region-split body reaches them through UnsafeAccessor.
    private static int Mirror(int lane, int size) => size - 1 - lane;

    private static void StoreAt(ArrayView<int> data, int index, int value) => data[index] = value;

    private static void ReverseWithPrivateHelpers(ArrayView<int> data)
    {
        var tile = SharedMemory.Allocate<int>(64);
        tile[Group.IdxX] = data[Grid.GlobalIndex.X];
        Group.Barrier();
        StoreAt(data, Grid.GlobalIndex.X, tile[Mirror(Group.IdxX, Group.DimX)]);
    }

    private static void PrivateHelperReverse(Accelerator accelerator)
    {
        const int groups = 3, size = 64;
        var input = Enumerable.Range(0, groups * size).Select(i => i * 7 - 100).ToArray();
        using var data = accelerator.Allocate1D(input);
        var kernel = accelerator.LoadStreamKernel<ArrayView<int>>(ReverseWithPrivateHelpers);
        kernel(new KernelConfig(groups, size), data.View);
        var expected = new int[input.Length];
        for (int g = 0; g < groups; g++)
            for (int lane = 0; lane < size; lane++)
                expected[g * size + lane] = input[g * size + size - 1 - lane];
        Check.Equal<int>(expected, data.GetAsArray1D(), "each group reversed through private helpers");
    }

    private static void ReduceKernel(ArrayView<float> input, ArrayView<float> partials)
    {
        var shared = SharedMemory.Allocate<float>(ReduceGroupSize);
        int global = Grid.GlobalIndex.X;
        shared[Group.IdxX] = global < input.Length ? input[global] : 0f;
        Group.Barrier();
        for (int stride = Group.DimX / 2; stride > 0; stride /= 2)
        {
            if (Group.IdxX < stride) shared[Group.IdxX] += shared[Group.IdxX + stride];
            Group.Barrier();
        }
        if (Group.IsFirstThread) partials[Grid.IdxX] = shared[0];
    }

    private static void StaticReduction(Accelerator accelerator)
    {
        RequireGroupSize(accelerator, ReduceGroupSize);
        const int n = 1000; // not a multiple of the group size
        int groups = (n + ReduceGroupSize - 1) / ReduceGroupSize;
        float[] data = new float[n];
        for (int i = 0; i < n; i++) data[i] = i % 17 - 8;
        var kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(ReduceKernel);
        using var input = accelerator.Allocate1D(data);
        using var partials = accelerator.Allocate1D<float>(groups);
        kernel((groups, ReduceGroupSize), input.View, partials.View);
        var expected = new float[groups];
        for (int i = 0; i < n; i++) expected[i / ReduceGroupSize] += data[i];
        Check.Equal<float>(expected, partials.GetAsArray1D(), "group sums in static shared memory", g => $"group {g}");
    }

    // Dynamic shared memory: each group reverses its slice.
    private static void ReverseKernel(ArrayView<int> input, ArrayView<int> output)
    {
        var shared = SharedMemory.GetDynamic<int>();
        int global = Grid.GlobalIndex.X;
        shared[Group.IdxX] = input[global];
        Group.Barrier();
        output[global] = shared[Group.DimX - 1 - Group.IdxX] + shared.IntLength * 1000000;
    }

    private static void DynamicReverse(Accelerator accelerator)
    {
        int group = Math.Min(48, accelerator.MaxNumThreadsPerGroup);
        const int groups = 7;
        int n = group * groups;
        int[] data = Enumerable.Range(0, n).ToArray();
        var kernel = accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>>(ReverseKernel);
        using var input = accelerator.Allocate1D(data);
        using var output = accelerator.Allocate1D<int>(n);
        var config = new KernelConfig(groups, group, SharedMemoryConfig.RequestDynamic<int>(group));
        kernel(config, input.View, output.View);
        var expected = new int[n];
        for (int i = 0; i < n; i++)
        {
            int g = i / group, l = i % group;
            expected[i] = g * group + (group - 1 - l) + group * 1000000;
        }
        Check.Equal<int>(expected, output.GetAsArray1D(), $"dynamic shared memory reverse (group {group}; +length*1e6)");
    }

    // A single shared variable by ref, updated atomically by every lane of the group.
    private static void SharedVariableKernel(ArrayView<int> counts, ArrayView<int> olds)
    {
        ref int counter = ref SharedMemory.Allocate<int>();
        if (Group.IsFirstThread) counter = 100;
        Group.Barrier();
        olds[Grid.GlobalIndex.X] = Atomic.Add(ref counter, 1);
        Group.Barrier();
        if (Group.IsLastThread) counts[Grid.IdxX] = counter;
    }

    private static void SharedVariable(Accelerator accelerator)
    {
        int group = Math.Min(32, accelerator.MaxNumThreadsPerGroup);
        const int groups = 9;
        var kernel = accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>>(SharedVariableKernel);
        using var counts = accelerator.Allocate1D<int>(groups);
        using var olds = accelerator.Allocate1D<int>(groups * group);
        kernel((groups, group), counts.View, olds.View);
        Check.Equal<int>(Enumerable.Repeat(100 + group, groups).ToArray(), counts.GetAsArray1D(), "shared counter after one Atomic.Add per lane", g => $"group {g}");
        int[] oldValues = olds.GetAsArray1D();
        for (int g = 0; g < groups; g++)
        {
            int[] slice = oldValues.AsSpan(g * group, group).ToArray();
            Array.Sort(slice);
            Check.Equal<int>(Enumerable.Range(100, group).ToArray(), slice, $"sorted old values of group {g} (each group has its own shared variable)");
        }
    }

    private static void BarrierReductionKernel(ArrayView<int> flags, ArrayView<int> results)
    {
        int global = Grid.GlobalIndex.X;
        bool flag = flags[global] != 0;
        int count = Group.BarrierPopCount(flag);
        bool all = Group.BarrierAnd(flag);
        bool any = Group.BarrierOr(flag);
        results[global * 3] = count;
        results[global * 3 + 1] = all ? 1 : 0;
        results[global * 3 + 2] = any ? 1 : 0;
    }

    private static void BarrierReductions(Accelerator accelerator)
    {
        int group = Math.Min(16, accelerator.MaxNumThreadsPerGroup);
        const int groups = 4;
        int n = group * groups;
        // group 0: some set; group 1: all set; group 2: none set; group 3: only the last lane.
        var flags = new int[n];
        for (int l = 0; l < group; l++)
        {
            flags[l] = l % 3 == 0 ? 1 : 0;
            flags[group + l] = 1;
            flags[2 * group + l] = 0;
            flags[3 * group + l] = l == group - 1 ? 1 : 0;
        }
        var kernel = accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>>(BarrierReductionKernel);
        using var input = accelerator.Allocate1D(flags);
        using var results = accelerator.Allocate1D<int>(n * 3);
        kernel((groups, group), input.View, results.View);
        var expected = new int[n * 3];
        for (int g = 0; g < groups; g++)
        {
            int count = 0;
            for (int l = 0; l < group; l++) count += flags[g * group + l];
            for (int l = 0; l < group; l++)
            {
                int i = g * group + l;
                expected[i * 3] = count;
                expected[i * 3 + 1] = count == group ? 1 : 0;
                expected[i * 3 + 2] = count > 0 ? 1 : 0;
            }
        }
        Check.Equal<int>(expected, results.GetAsArray1D(), "Group.BarrierPopCount/BarrierAnd/BarrierOr",
            i => $"{new[] { "PopCount", "And", "Or" }[i % 3]} in group {i / 3 / group}, lane {i / 3 % group}");
    }

    private const int IndexFields = 16;

    // Each thread writes everything it can see about its position, at its global linear index.
    private static void IndexKernel(ArrayView<int> output)
    {
        var global = Grid.GlobalIndex;
        int gx = Grid.DimX * Group.DimX, gy = Grid.DimY * Group.DimY;
        int linear = global.X + gx * (global.Y + gy * global.Z);
        int o = linear * IndexFields;
        output[o] = Grid.IdxX;
        output[o + 1] = Grid.IdxY;
        output[o + 2] = Grid.IdxZ;
        output[o + 3] = Group.IdxX;
        output[o + 4] = Group.IdxY;
        output[o + 5] = Group.IdxZ;
        output[o + 6] = Grid.DimX;
        output[o + 7] = Grid.DimY;
        output[o + 8] = Grid.DimZ;
        output[o + 9] = Group.DimX;
        output[o + 10] = Group.DimY;
        output[o + 11] = Group.DimZ;
        output[o + 12] = Group.LinearIndex;
        output[o + 13] = Grid.GlobalLinearIndex;
        output[o + 14] = Grid.Index.X + Grid.Index.Y * 100 + Group.Index.Z * 10000;
        output[o + 15] = Group.Dimension.Size + Grid.Dimension.Size * 1000;
    }

    private static void Indices(Accelerator accelerator, Index3D grid, Index3D group)
    {
        RequireGroupSize(accelerator, group.Size);
        var kernel = accelerator.LoadStreamKernel<ArrayView<int>>(IndexKernel);
        int gx = grid.X * group.X, gy = grid.Y * group.Y, gz = grid.Z * group.Z;
        int total = gx * gy * gz;
        using var output = accelerator.Allocate1D<int>(total * IndexFields);
        output.MemSetToZero();
        kernel(new KernelConfig(grid, group), output.View);
        int[] actual = output.GetAsArray1D();
        var expected = new int[actual.Length];
        string[] names = ["Grid.IdxX", "Grid.IdxY", "Grid.IdxZ", "Group.IdxX", "Group.IdxY", "Group.IdxZ", "Grid.DimX", "Grid.DimY", "Grid.DimZ",
            "Group.DimX", "Group.DimY", "Group.DimZ", "Group.LinearIndex", "Grid.GlobalLinearIndex", "Grid.Index/Group.Index mix", "Dimension sizes"];
        for (int z = 0; z < gz; z++)
            for (int y = 0; y < gy; y++)
                for (int x = 0; x < gx; x++)
                {
                    int linear = x + gx * (y + gy * z);
                    int o = linear * IndexFields;
                    int bx = x / group.X, by = y / group.Y, bz = z / group.Z;
                    int lx = x % group.X, ly = y % group.Y, lz = z % group.Z;
                    int[] fields =
                    [
                        bx, by, bz, lx, ly, lz, grid.X, grid.Y, grid.Z, group.X, group.Y, group.Z,
                        lx + group.X * (ly + group.Y * lz),
                        // ILGPU's definition: the group's linear index times the group size plus the lane.
                        (bx + grid.X * (by + grid.Y * bz)) * group.Size + lx + group.X * (ly + group.Y * lz),

                        bx + by * 100 + lz * 10000,
                        group.Size + grid.Size * 1000,
                    ];
                    fields.CopyTo(expected, o);
                }
        Check.Equal<int>(expected, actual, $"Grid/Group intrinsics for grid {grid}, group {group}",
            i => $"{names[i % IndexFields]} of global ({i / IndexFields % gx}, {i / IndexFields / gx % gy}, {i / IndexFields / gx / gy})");
    }

    internal static void RequireGroupSize(Accelerator accelerator, int size)
    {
        if (size > accelerator.MaxNumThreadsPerGroup)
            throw new ConformanceSkip($"needs {size} threads per group; {accelerator} allows {accelerator.MaxNumThreadsPerGroup}.");
    }
}
