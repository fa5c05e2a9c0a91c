using System.Collections.Concurrent;

namespace GpuDeconv.Compute;

/// <summary>Runs kernels as C# on the host's cores (ILGPU's <c>CPUAccelerator</c>).</summary>
/// <remarks>
/// Implicitly grouped kernels run as contiguous chunks of the index space on the thread pool.
/// Explicitly grouped kernels without barriers run whole groups per worker, lanes one after another;
/// kernels with barriers run each group on a team of OS threads, one per lane. Exceptions thrown
/// by kernel code surface from the launch as <see cref="KernelExecutionException"/>.
/// </remarks>
public sealed class CPUAccelerator : Accelerator
{
    // Below this many indices a launch runs inline: Parallel.For costs microseconds.
    private const long MinChunk = 2048;

    // Cap on lane threads alive for one launch (teams x group size).
    private const int MaxLaneThreads = 4096;

    private readonly CPUStream _defaultStream;
    private readonly ConcurrentDictionary<(int Size, bool Sequential), ConcurrentBag<LaneTeam>> _teams = new();

    internal CPUAccelerator(Context context, CPUDevice device) : base(context, device)
    {
        Mode = ResolveMode(device.Mode);
        RegionSplitting = Environment.GetEnvironmentVariable("GPUDECONV_CPU_SPLIT") != "0";
        _defaultStream = new CPUStream(this);
    }

    /// <summary>The resolved mode: Parallel or Sequential.</summary>
    public CPUAcceleratorMode Mode { get; }

    public bool IsSequential => Mode == CPUAcceleratorMode.Sequential;

    /// <summary>True unless GPUDECONV_CPU_SPLIT=0: barrier kernels the generator split run a group per thread instead of a thread per lane.</summary>
    internal bool RegionSplitting { get; }

    public override AcceleratorStream DefaultStream => _defaultStream;

    internal static CPUAcceleratorMode ResolveMode(CPUAcceleratorMode mode) => mode switch
    {
        CPUAcceleratorMode.Auto => Environment.GetEnvironmentVariable("GPUDECONV_CPU_SEQUENTIAL") == "1"
            ? CPUAcceleratorMode.Sequential
            : CPUAcceleratorMode.Parallel,
        _ => mode,
    };

    protected override AcceleratorStream CreateStreamCore() => new CPUStream(this);

    protected override void SynchronizeCore()
    {
    }

    protected internal override DeviceMemory AllocateMemory(long lengthInBytes)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(lengthInBytes);
        return new CPUMemory(this, lengthInBytes);
    }

    protected override object? CompileKernel(KernelDefinition definition) => null;

    protected override void DisposeCore()
    {
        foreach (var bag in _teams.Values)
            while (bag.TryTake(out var team)) team.Dispose();
    }

    // ---- implicitly grouped ----

    /// <summary>Runs <paramref name="chunk"/> over [0, total) in contiguous ranges; <paramref name="extent"/> only decodes indices for messages.</summary>
    internal void RunImplicit(LoadedKernel kernel, long total, LongIndex3D? extent, Action<long, long> chunk)
    {
        ThrowIfDisposed();
        int workers = Environment.ProcessorCount;
        if (IsSequential || workers == 1 || total <= MinChunk)
        {
            RunChunk(kernel, extent, chunk, 0, total);
            return;
        }
        // A few chunks per core balance uneven work without paying per-index overhead.
        long chunks = Math.Min((long)workers * 4, (total + MinChunk - 1) / MinChunk);
        long size = (total + chunks - 1) / chunks;
        chunks = (total + size - 1) / size;
        KernelExecutionException? failure = null;
        Parallel.For(0, chunks, (i, state) =>
        {
            long start = i * size;
            long end = Math.Min(total, start + size);
            try
            {
                RunChunk(kernel, extent, chunk, start, end);
            }
            catch (KernelExecutionException exception)
            {
                Interlocked.CompareExchange(ref failure, exception, null);
                state.Stop();
            }
        });
        if (failure is not null) throw failure;
    }

    private static void RunChunk(LoadedKernel kernel, LongIndex3D? extent, Action<long, long> chunk, long start, long end)
    {
        var context = t_implicitContext ??= new LaneContext();
        context.BeginImplicit();
        LaneContext.Current = context;
        try
        {
            chunk(start, end);
        }
        catch (Exception exception)
        {
            throw LocateImplicitFailure(kernel, extent, chunk, start, end, exception);
        }
        finally
        {
            LaneContext.Current = null;
            context.ReleaseLocals();
        }
    }

    [ThreadStatic]
    private static LaneContext? t_implicitContext;

    /// <summary>Finds which index of a failed chunk throws by re-running it one index at a time.</summary>
    /// <remarks>
    /// The generated chunk loop hides the index, so the failing one is found again; indices before it run
    /// twice, which only matters for kernels that accumulate, and their output is undefined after a failure anyway.
    /// </remarks>
    private static KernelExecutionException LocateImplicitFailure(LoadedKernel kernel, LongIndex3D? extent, Action<long, long> chunk, long start, long end, Exception original)
    {
        if (end - start > 1)
        {
            for (long i = start; i < end; i++)
            {
                try
                {
                    chunk(i, i + 1);
                }
                catch (Exception exception)
                {
                    return new KernelExecutionException(kernel.Definition.Name, DescribeIndex(i, extent), exception);
                }
            }
        }
        string where = end - start == 1 ? DescribeIndex(start, extent) : $"an index in [{start}, {end}) (it did not fail again when re-run alone)";
        return new KernelExecutionException(kernel.Definition.Name, where, original);
    }

    private static string DescribeIndex(long linear, LongIndex3D? extent)
    {
        if (extent is not { } e || (e.Y == 1 && e.Z == 1)) return $"index {linear}";
        long x = linear % e.X;
        long y = linear / e.X % e.Y;
        long z = linear / (e.X * e.Y);
        return e.Z == 1 ? $"index ({x}, {y}) (linear {linear})" : $"index ({x}, {y}, {z}) (linear {linear})";
    }

    // ---- explicitly grouped ----

    internal void RunGrouped(LoadedKernel kernel, KernelConfig config, Action lane)
    {
        ThrowIfDisposed();
        if (kernel.Definition.Uses(KernelFeatures.Barrier) && config.GroupDim.Size > 1) RunWithTeams(kernel, config, lane);
        else RunLanesInOrder(kernel, config, lane);
    }

    /// <summary>Groups in parallel (or in order), the lanes of each group one after another on one thread.</summary>
    private void RunLanesInOrder(LoadedKernel kernel, KernelConfig config, Action lane)
    {
        long groups = config.GridDim.LongSize;
        int lanes = config.GroupDim.Size;
        string name = kernel.Definition.Name;
        if (IsSequential || groups == 1 || (long)lanes * groups <= MinChunk)
        {
            using var group = new GroupState();
            using var context = new LaneContext();
            group.BeginLaunch(name, config, null);
            for (long g = 0; g < groups; g++) RunGroup(kernel, config, lane, group, context, g);
            return;
        }
        KernelExecutionException? failure = null;
        Parallel.For(0, groups,
            () => (Group: new GroupState(), Context: new LaneContext()),
            (g, state, local) =>
            {
                if (state.ShouldExitCurrentIteration) return local;
                local.Group.BeginLaunch(name, config, null);
                try
                {
                    RunGroup(kernel, config, lane, local.Group, local.Context, g);
                }
                catch (KernelExecutionException exception)
                {
                    Interlocked.CompareExchange(ref failure, exception, null);
                    state.Stop();
                }
                return local;
            },
            local =>
            {
                local.Group.Dispose();
                local.Context.Dispose();
            });
        if (failure is not null) throw failure;
    }

    private static void RunGroup(LoadedKernel kernel, KernelConfig config, Action lane, GroupState group, LaneContext context, long linearGroup)
    {
        group.BeginGroup(LaneTeam.Decode(linearGroup, config.GridDim));
        int lanes = config.GroupDim.Size;
        try
        {
            for (int l = 0; l < lanes; l++)
            {
                context.BeginLane(group, l);
                LaneContext.Current = context;
                try
                {
                    lane();
                }
                catch (Exception exception)
                {
                    throw new KernelExecutionException(kernel.Definition.Name, $"grid index {group.GridIndex}, group index {context.ThreadIndex}", exception);
                }
            }
        }
        finally
        {
            LaneContext.Current = null;
            context.ReleaseLocals();
        }
    }

    /// <summary>Region-split kernels: groups in parallel (or in order), each group one call of <paramref name="split"/> on one thread.</summary>
    internal void RunSplit(LoadedKernel kernel, KernelConfig config, Action<CpuGroupRunner> split)
    {
        ThrowIfDisposed();
        long groups = config.GridDim.LongSize;
        string name = kernel.Definition.Name;
        if (IsSequential || groups == 1 || Environment.ProcessorCount == 1)
        {
            using var runner = new CpuGroupRunner(name, config);
            for (long g = 0; g < groups; g++) RunSplitGroup(kernel, config, split, runner, g);
            return;
        }
        KernelExecutionException? failure = null;
        Parallel.For(0, groups,
            () => new CpuGroupRunner(name, config),
            (g, state, runner) =>
            {
                if (state.ShouldExitCurrentIteration) return runner;
                try
                {
                    RunSplitGroup(kernel, config, split, runner, g);
                }
                catch (KernelExecutionException exception)
                {
                    Interlocked.CompareExchange(ref failure, exception, null);
                    state.Stop();
                }
                return runner;
            },
            runner => runner.Dispose());
        if (failure is not null) throw failure;
    }

    private static void RunSplitGroup(LoadedKernel kernel, KernelConfig config, Action<CpuGroupRunner> split, CpuGroupRunner runner, long linearGroup)
    {
        runner.BeginGroup(LaneTeam.Decode(linearGroup, config.GridDim));
        try
        {
            split(runner);
        }
        catch (Exception exception)
        {
            throw new KernelExecutionException(kernel.Definition.Name, $"grid index {runner.GridIndex}, group index {runner.ThreadIndex}", exception);
        }
        finally
        {
            LaneContext.Current = null;
        }
    }

    /// <summary>Groups with barriers: each group runs on a team of threads, one per lane.</summary>
    private void RunWithTeams(LoadedKernel kernel, KernelConfig config, Action lane)
    {
        int size = config.GroupDim.Size;
        long groups = config.GridDim.LongSize;
        int teamCount = IsSequential ? 1 : (int)Math.Clamp(Math.Min(groups, Environment.ProcessorCount), 1, Math.Max(1, MaxLaneThreads / size));
        var bag = _teams.GetOrAdd((size, IsSequential), _ => []);
        var teams = new LaneTeam[teamCount];
        for (int i = 0; i < teamCount; i++)
            teams[i] = bag.TryTake(out var pooled) ? pooled : new LaneTeam(size, IsSequential);
        using var job = new TeamJob(kernel, config, lane, teamCount);
        foreach (var team in teams) team.Start(job);
        job.Finished.Wait();
        foreach (var team in teams)
        {
            if (team.Broken || IsDisposed) team.Dispose();
            else bag.Add(team);
        }
        if (job.Failure is not null) throw job.Failure;
    }
}
