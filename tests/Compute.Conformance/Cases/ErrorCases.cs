namespace GpuDeconv.Compute.Conformance;

// Errors a user can act on: kernel exceptions on the CPU name the kernel and the failing index,
// launch limits are checked before launching, and views cannot cross accelerators.
internal static class ErrorCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("errors.cpu-kernel-exception", "errors", CpuKernelException);
        yield return new("errors.cpu-barrier-kernel-exception", "errors", CpuBarrierKernelException);
        yield return new("errors.cpu-late-kernel-exception", "errors", CpuLateKernelException);
        yield return new("errors.group-too-large", "errors", GroupTooLarge);
        yield return new("errors.foreign-view", "errors", ForeignView);
        yield return new("errors.disposed-buffer", "errors", DisposedBuffer);
    }

    private static void OutOfRangeKernel(Index1D index, ArrayView<int> data) => data[index + 1] = index;

    private static void FineKernel(Index1D index, ArrayView<int> data) => data[index] = index * 2;

    private static void ExplicitWriteKernel(ArrayView<int> data) => data[Grid.GlobalIndex.X] = Group.IdxX;

    // Lane 5 of group 2 reads past the end after a barrier: the region-split CPU path must name both.
    private static void BarrierOutOfRangeKernel(ArrayView<int> data)
    {
        var tile = SharedMemory.Allocate<int>(8);
        tile[Group.IdxX] = Group.IdxX;
        Group.Barrier();
        int offset = Grid.IdxX == 2 && Group.IdxX == 5 ? data.IntLength : 0;
        data[Grid.GlobalIndex.X + offset] = tile[7 - Group.IdxX];
    }

    private static void CpuBarrierKernelException(Accelerator accelerator)
    {
        if (!accelerator.ChecksBounds)
            throw new ConformanceSkip($"out-of-range accesses are undefined behaviour on {accelerator}; only accelerators whose ChecksBounds is true (the CPU accelerator) fail the launch.");
        var kernel = accelerator.LoadStreamKernel<ArrayView<int>>(BarrierOutOfRangeKernel);
        using var data = accelerator.Allocate1D<int>(32);
        Exception? caught = null;
        try
        {
            kernel(new KernelConfig(4, 8), data.View);
            accelerator.Synchronize();
        }
        catch (Exception e)
        {
            caught = e;
        }
        Check.True(caught is KernelExecutionException, $"Expected a KernelExecutionException, got {caught?.GetType().Name ?? "no exception"}.");
        string message = caught!.Message;
        Check.True(message.Contains(nameof(BarrierOutOfRangeKernel), StringComparison.Ordinal), $"The exception does not name the kernel: {message}");
        Check.True(message.Contains("grid index (2, 0, 0)", StringComparison.Ordinal) && message.Contains("group index (5, 0, 0)", StringComparison.Ordinal),
            $"The exception does not name grid index (2, 0, 0) and group index (5, 0, 0): {message}");

        // The accelerator stays usable: a clean launch of the same kernel shape still runs.
        var fine = accelerator.LoadStreamKernel<ArrayView<int>>(ExplicitWriteKernel);
        fine(new KernelConfig(4, 8), data.View);
        accelerator.Synchronize();
        Check.Equal(5, data.GetAsArray1D()[21], "data[21] after a clean launch");
    }

    private static void CpuKernelException(Accelerator accelerator)
    {
        if (!accelerator.ChecksBounds)
            throw new ConformanceSkip($"out-of-range accesses are undefined behaviour on {accelerator}; only accelerators whose ChecksBounds is true (the CPU accelerator) fail the launch.");
        const int n = 37;
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(OutOfRangeKernel);
        using var data = accelerator.Allocate1D<int>(n);
        Exception? caught = null;
        try
        {
            kernel(n, data.View);
            accelerator.Synchronize();
        }
        catch (Exception e)
        {
            caught = e;
        }
        Check.True(caught is not null, "Writing data[index + 1] for index 36 of a 37-element view did not throw.");
        string message = caught!.ToString();
        Check.True(caught.Message.Contains(nameof(OutOfRangeKernel), StringComparison.Ordinal),
            $"The exception does not name the kernel {nameof(OutOfRangeKernel)}: {caught.GetType().Name}: {caught.Message}");
        Check.True(caught.Message.Contains((n - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal),
            $"The exception does not name the failing index {n - 1}: {caught.GetType().Name}: {caught.Message}");
        Check.True(message.Contains("IndexOutOfRange", StringComparison.Ordinal) || message.Contains("ArgumentOutOfRange", StringComparison.Ordinal),
            $"The exception does not carry the out-of-range cause: {message}");

        // The accelerator stays usable after a failed launch.
        var fine = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(FineKernel);
        fine(n, data.View);
        Check.Equal<int>(Enumerable.Range(0, n).Select(i => i * 2).ToArray(), data.GetAsArray1D(), "launch after a failed launch");
    }

    // Every index spins a while, so the CPU accelerator hands most of the launch to the thread pool before the last
    // index (implicit) or the last group (explicit) writes past the end: the failure still names it.
    private static void SlowOutOfRangeKernel(Index1D index, ArrayView<int> data, int rounds)
    {
        int v = 0;
        for (int k = 0; k < rounds; k++) v = (v * 7 + k) & 1023;
        int i = index.X;
        data[i == data.IntLength - 1 ? data.IntLength : i] = v;
    }

    private static void SlowGroupedOutOfRangeKernel(ArrayView<int> data, int rounds)
    {
        int v = 0;
        for (int k = 0; k < rounds; k++) v = (v * 7 + k) & 1023;
        int index = Grid.GlobalIndex.X;
        data[index == data.IntLength - 1 ? data.IntLength : index] = v;
    }

    private static void CpuLateKernelException(Accelerator accelerator)
    {
        if (!accelerator.ChecksBounds)
            throw new ConformanceSkip($"out-of-range accesses are undefined behaviour on {accelerator}; only accelerators whose ChecksBounds is true (the CPU accelerator) fail the launch.");
        const int n = 4000;
        const int rounds = 5000;
        using var data = accelerator.Allocate1D<int>(n);
        var implicitKernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, int>(SlowOutOfRangeKernel);
        string message = LaunchMessage(() => implicitKernel(n, data.View, rounds));
        Check.True(message.Contains(nameof(SlowOutOfRangeKernel), StringComparison.Ordinal) && message.Contains("index 3999", StringComparison.Ordinal),
            $"The exception does not name the kernel and index 3999: {message}");
        var groupedKernel = accelerator.LoadStreamKernel<ArrayView<int>, int>(SlowGroupedOutOfRangeKernel);
        message = LaunchMessage(() => groupedKernel(new KernelConfig(n / 8, 8), data.View, rounds));
        Check.True(message.Contains(nameof(SlowGroupedOutOfRangeKernel), StringComparison.Ordinal)
                   && message.Contains("grid index (499, 0, 0)", StringComparison.Ordinal) && message.Contains("group index (7, 0, 0)", StringComparison.Ordinal),
            $"The exception does not name the kernel, grid index (499, 0, 0) and group index (7, 0, 0): {message}");

        string LaunchMessage(Action launch)
        {
            try
            {
                launch();
                accelerator.Synchronize();
            }
            catch (KernelExecutionException e)
            {
                return e.Message;
            }
            throw new ConformanceFailure("Writing one element past the end at the last index did not throw a KernelExecutionException.");
        }
    }

    private static void GroupTooLarge(Accelerator accelerator)
    {
        var kernel = accelerator.LoadStreamKernel<ArrayView<int>>(ExplicitWriteKernel);
        int max = accelerator.MaxNumThreadsPerGroup;
        using var data = accelerator.Allocate1D<int>(max + 1);
        ExpectThrows<ArgumentOutOfRangeException>(() => kernel((1, max + 1), data.View), $"a 1-D group of {max + 1} threads (maximum {max})");
        int side = (int)Math.Ceiling(Math.Sqrt(max + 1.0));
        ExpectThrows<ArgumentOutOfRangeException>(() => kernel(new KernelConfig(new Index3D(1, 1, 1), new Index3D(side, side, 1)), data.View),
            $"a {side}x{side} group (maximum {max} threads)");
        // The largest legal group still runs.
        data.MemSetToZero();
        kernel((1, max), data.View);
        int[] result = data.GetAsArray1D();
        Check.Equal(max - 1, result[max - 1], $"last lane of a group of {max}");
    }

    private static void ForeignView(Accelerator accelerator)
    {
        using var owned = AcceleratorCatalog.CreateSecondCpuAccelerator();
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>>(FineKernel);
        using var foreign = owned.Allocate1D<int>(16);
        var e = ExpectThrows<ArgumentException>(() => kernel(16, foreign.View), "a view of another accelerator passed to a kernel");
        Check.True(e.Message.Contains(owned.Name, StringComparison.Ordinal) || e.Message.Contains("accelerator", StringComparison.OrdinalIgnoreCase),
            $"The message does not say the view belongs to another accelerator: {e.Message}");
    }

    private static void CopyKernel(Index1D index, ArrayView<int> source, ArrayView<int> target) => target[index] = source[index];

    private static void DisposedBuffer(Accelerator accelerator)
    {
        // The disposed view is only read, so a runtime that misses the check reads stale memory
        // instead of corrupting the heap.
        var kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>>(CopyKernel);
        using var target = accelerator.Allocate1D<int>(8);
        var buffer = accelerator.Allocate1D<int>(8);
        var view = buffer.View;
        buffer.Dispose();
        var failures = new List<string>();
        foreach (var (what, action) in new (string, Action)[]
        {
            ("a launch reading a view of a disposed buffer", () => kernel(8, view, target.View)),
            ("GetAsArray1D on a view of a disposed buffer", () => view.GetAsArray1D()),
            ("CopyTo from a view of a disposed buffer", () => view.CopyTo(target.View)),
        })
        {
            try
            {
                ExpectThrows<ObjectDisposedException>(action, what);
            }
            catch (ConformanceFailure failure)
            {
                failures.Add(failure.Message);
            }
        }
        Check.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static T ExpectThrows<T>(Action action, string what) where T : Exception
    {
        try
        {
            action();
        }
        catch (T e)
        {
            return e;
        }
        catch (Exception e)
        {
            throw new ConformanceFailure($"{what}: expected {typeof(T).Name}, got {e.GetType().Name}: {e.Message}");
        }
        throw new ConformanceFailure($"{what}: expected {typeof(T).Name}, but nothing was thrown.");
    }
}
