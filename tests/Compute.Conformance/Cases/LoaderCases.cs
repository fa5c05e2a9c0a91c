namespace GpuDeconv.Compute.Conformance;

// Every loader shape of docs/kernel-abi.md section 3, fixed group sizes that do not divide the
// extent, immediate Launch/LaunchAutoGrouped, empty launches, and the kind/shape check.
internal static class LoaderCases
{
    private const int N = 1000;

    public static IEnumerable<ConformanceCase> All()
    {
        yield return new("loaders.implicitly-grouped", "loaders", ImplicitlyGrouped);
        yield return new("loaders.launch-immediate", "loaders", Immediate);
        yield return new("loaders.explicit-with-stream", "loaders", ExplicitWithStream);
        yield return new("loaders.empty-launch", "loaders", EmptyLaunch);
        yield return new("loaders.kind-mismatch", "loaders", KindMismatch);
    }

    private static void AddIndexKernel(Index1D index, ArrayView<int> data, int value) => data[index] += index.X * value;

    private static void ExplicitAddKernel(ArrayView<int> data, int value)
    {
        int i = Grid.GlobalIndex.X;
        if (i < data.Length) data[i] += i * value;
    }

    private static int[] Expected(int factor) => Enumerable.Range(0, N).Select(i => i * factor).ToArray();

    private static void ImplicitlyGrouped(Accelerator accelerator)
    {
        using var data = accelerator.Allocate1D<int>(N);
        data.MemSetToZero();
        int group = Math.Min(32, accelerator.MaxNumThreadsPerGroup);
        var onDefault = accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, ArrayView<int>, int>(AddIndexKernel, group);
        onDefault(N, data.View, 1);
        var withStream = accelerator.LoadImplicitlyGroupedKernel<Index1D, ArrayView<int>, int>(AddIndexKernel, Math.Min(7, accelerator.MaxNumThreadsPerGroup));
        withStream(accelerator.DefaultStream, N, data.View, 2);
        Check.Equal<int>(Expected(3), data.GetAsArray1D(), $"LoadImplicitlyGrouped(Stream)Kernel with groups of {group} and 7 over {N} indices");
        try
        {
            accelerator.LoadImplicitlyGroupedStreamKernel<Index1D, ArrayView<int>, int>(AddIndexKernel, accelerator.MaxNumThreadsPerGroup + 1);
            throw new ConformanceFailure($"LoadImplicitlyGroupedStreamKernel accepted a group of {accelerator.MaxNumThreadsPerGroup + 1} (maximum {accelerator.MaxNumThreadsPerGroup}).");
        }
        catch (ArgumentOutOfRangeException)
        {
        }
    }

    private static void Immediate(Accelerator accelerator)
    {
        using var data = accelerator.Allocate1D<int>(N);
        data.MemSetToZero();
        accelerator.LaunchAutoGrouped<Index1D, ArrayView<int>, int>(AddIndexKernel, new Index1D(N), data.View, 1);
        accelerator.LaunchAutoGrouped<Index1D, ArrayView<int>, int>(AddIndexKernel, accelerator.DefaultStream, new Index1D(N), data.View, 10);
        int group = Math.Min(64, accelerator.MaxNumThreadsPerGroup);
        var config = new KernelConfig((N + group - 1) / group, group);
        accelerator.Launch<ArrayView<int>, int>(ExplicitAddKernel, config, data.View, 100);
        accelerator.Launch<ArrayView<int>, int>(ExplicitAddKernel, accelerator.DefaultStream, config, data.View, 1000);
        Check.Equal<int>(Expected(1111), data.GetAsArray1D(), "LaunchAutoGrouped and Launch, with and without a stream");
    }

    private static void ExplicitWithStream(Accelerator accelerator)
    {
        using var stream = accelerator.CreateStream();
        using var data = accelerator.Allocate1D<int>(N);
        data.MemSetToZero(stream);
        var kernel = accelerator.LoadKernel<ArrayView<int>, int>(ExplicitAddKernel);
        int group = Math.Min(128, accelerator.MaxNumThreadsPerGroup);
        kernel(stream, ((N + group - 1) / group, group), data.View, 5);
        stream.Synchronize();
        Check.Equal<int>(Expected(5), data.GetAsArray1D(), "LoadKernel on a created stream");
    }

    private static void EmptyLaunch(Accelerator accelerator)
    {
        using var data = accelerator.Allocate1D(new[] { 7 });
        var implicitKernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, int>(AddIndexKernel);
        implicitKernel(0, data.View, 1);
        var explicitKernel = accelerator.LoadStreamKernel<ArrayView<int>, int>(ExplicitAddKernel);
        explicitKernel((0, 1), data.View, 1);
        Check.Equal(7, data.GetAsArray1D()[0], "buffer after empty launches");
    }

    private static void KindMismatch(Accelerator accelerator)
    {
        try
        {
            accelerator.LoadStreamKernel<Index1D, ArrayView<int>, int>(AddIndexKernel);
        }
        catch (ArgumentException e)
        {
            Check.True(e.Message.Contains(nameof(AddIndexKernel), StringComparison.Ordinal),
                $"The kind-mismatch error does not name the kernel {nameof(AddIndexKernel)}: {e.Message}");
            return;
        }
        throw new ConformanceFailure("LoadStreamKernel accepted the implicitly grouped kernel AddIndexKernel; expected an ArgumentException naming the kernel and both kinds.");
    }
}
