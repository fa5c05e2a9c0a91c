using System.Collections.Concurrent;
using System.Diagnostics;

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
    // What an index or a group costs is unknown until some have run: one copies a float, another computes a whole
    // convolution tile. A launch therefore starts on the calling thread in doubling steps and hands the rest to the
    // thread pool once it has run longer than InlineTicks (Parallel.For costs microseconds), in parts of at least
    // PartTicks of estimated work, a few per core so that uneven parts balance.
    private static readonly long InlineTicks = Stopwatch.Frequency / 20_000;
    private static readonly long PartTicks = Stopwatch.Frequency / 50_000;
    private const int PartsPerCore = 4;

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
        Action<long, long> range = (start, end) => RunChunk(kernel, extent, chunk, start, end);
        long done = RunPrefix(total, range, out int parts);
        if (done < total) RunParts(done, total, parts, range);
    }

    /// <summary>Runs items from 0 on the calling thread until they are done or have taken <see cref="InlineTicks"/>; returns how many ran.</summary>
    /// <remarks><paramref name="parts"/>: how many parallel parts the rest is worth (at least 2 when items remain).</remarks>
    private long RunPrefix(long total, Action<long, long> range, out int parts)
    {
        parts = 0;
        if (IsSequential || Environment.ProcessorCount == 1)
        {
            range(0, total);
            return total;
        }
        long began = Stopwatch.GetTimestamp();
        long done = 0;
        for (long step = 1; done < total; step *= 2)
        {
            long end = Math.Min(total, done + step);
            range(done, end);
            done = end;
            long elapsed = Stopwatch.GetTimestamp() - began;
            if (done == total || elapsed < InlineTicks) continue;
            // The rest's time estimated from the mean so far; too little left and it finishes here.
            double rest = (double)elapsed / done * (total - done);
            parts = (int)Math.Min(Math.Min((long)Environment.ProcessorCount * PartsPerCore, total - done), rest / PartTicks);
            if (parts >= 2) return done;
            parts = 0;
        }
        return done;
    }

    /// <summary>Runs items [start, end) as <paramref name="parts"/> contiguous parts on the thread pool; the first kernel failure stops the others.</summary>
    private static void RunParts(long start, long end, int parts, Action<long, long> range)
    {
        long count = end - start;
        KernelExecutionException? failure = null;
        Parallel.For(0, parts, (i, state) =>
        {
            if (state.ShouldExitCurrentIteration) return;
            try
            {
                range(start + count * i / parts, start + count * (i + 1) / parts);
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
        string name = kernel.Definition.Name;
        // The calling thread keeps one group state and lane context for its groups; each parallel part makes its own.
        using var group = new GroupState();
        using var context = new LaneContext();
        group.BeginLaunch(name, config, null);
        long done = RunPrefix(groups, (start, end) =>
        {
            for (long g = start; g < end; g++) RunGroup(kernel, config, lane, group, context, g);
        }, out int parts);
        if (done == groups) return;
        RunParts(done, groups, parts, (start, end) =>
        {
            using var partGroup = new GroupState();
            using var partContext = new LaneContext();
            partGroup.BeginLaunch(name, config, null);
            for (long g = start; g < end; g++) RunGroup(kernel, config, lane, partGroup, partContext, g);
        });
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
        using var runner = new CpuGroupRunner(name, config);
        long done = RunPrefix(groups, (start, end) =>
        {
            for (long g = start; g < end; g++) RunSplitGroup(kernel, config, split, runner, g);
        }, out int parts);
        if (done == groups) return;
        RunParts(done, groups, parts, (start, end) =>
        {
            using var partRunner = new CpuGroupRunner(name, config);
            for (long g = start; g < end; g++) RunSplitGroup(kernel, config, split, partRunner, g);
        });
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
