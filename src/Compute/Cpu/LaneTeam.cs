namespace GpuDeconv.Compute;

/// <summary>One explicitly grouped launch shared by the lane teams that run it.</summary>
internal sealed class TeamJob(LoadedKernel kernel, KernelConfig config, Action lane, int teams) : IDisposable
{
    private long _nextGroup;
    private readonly object _failureLock = new();

    public LoadedKernel Kernel { get; } = kernel;

    public KernelConfig Config { get; } = config;

    public Action Lane { get; } = lane;

    public long TotalGroups { get; } = config.GridDim.LongSize;

    public CancellationTokenSource Cancellation { get; } = new();

    public CountdownEvent Finished { get; } = new(teams * config.GroupDim.Size);

    public KernelExecutionException? Failure { get; private set; }

    public long NextGroup() => Interlocked.Increment(ref _nextGroup) - 1;

    public void Fail(Index3D gridIndex, Index3D threadIndex, Exception exception)
    {
        lock (_failureLock)
        {
            Failure ??= new KernelExecutionException(Kernel.Definition.Name, $"grid index {gridIndex}, group index {threadIndex}", exception);
        }
        Cancellation.Cancel();
    }

    public void Dispose()
    {
        Cancellation.Dispose();
        Finished.Dispose();
    }
}

/// <summary>A pooled set of OS threads, one per lane of a group, that runs groups of kernels with barriers.</summary>
/// <remarks>
/// Parallel teams run all lanes at once and meet at a <see cref="GroupSync"/>. Sequential teams pass a
/// baton from lane to lane, so only one thread runs at a time and lanes run in order between barriers.
/// A failure cancels the job: blocked lanes unwind with OperationCanceledException and the team is discarded.
/// </remarks>
internal sealed class LaneTeam : IGroupBarrier, IDisposable
{
    private readonly SemaphoreSlim[] _start;
    private readonly ManualResetEventSlim[] _baton;
    private readonly GroupSync _sync;
    private readonly GroupState _group = new();
    private TeamJob? _job;
    private long _currentGroup;
    private volatile bool _exit;

    public LaneTeam(int size, bool sequential)
    {
        Size = size;
        Sequential = sequential;
        _sync = new GroupSync(size, blocking: !sequential);
        _start = new SemaphoreSlim[size];
        _baton = sequential ? new ManualResetEventSlim[size] : [];
        for (int lane = 0; lane < size; lane++)
        {
            _start[lane] = new SemaphoreSlim(0);
            if (sequential) _baton[lane] = new ManualResetEventSlim(false, 1);
        }
        for (int lane = 0; lane < size; lane++)
        {
            int captured = lane;
            // Kernels use little stack; small stacks keep 1024-lane teams cheap.
            var thread = new Thread(() => ThreadMain(captured), 256 * 1024)
            {
                IsBackground = true,
                Name = $"gpudeconv cpu lane {lane}/{size}",
            };
            thread.Start();
        }
    }

    public int Size { get; }

    public bool Sequential { get; }

    /// <summary>True once a job failed on this team; it must not be reused.</summary>
    public bool Broken { get; private set; }

    /// <summary>Starts <paramref name="job"/> on every lane; completion is signalled on <see cref="TeamJob.Finished"/>.</summary>
    public void Start(TeamJob job)
    {
        _job = job;
        _group.BeginLaunch(job.Kernel.Definition.Name, job.Config, this);
        NextGroup();
        job.Cancellation.Token.Register(_sync.Interrupt);
        foreach (var start in _start) start.Release();
        if (Sequential) _baton[0].Set();
    }

    public void Wait(int lane)
    {
        var token = _job!.Cancellation.Token;
        _sync.Barrier(token);
        if (Sequential)
        {
            PassBaton(lane);
            TakeBaton(lane, token);
        }
    }

    private void NextGroup()
    {
        var job = _job!;
        _currentGroup = job.NextGroup();
        if (_currentGroup < job.TotalGroups) _group.BeginGroup(Decode(_currentGroup, job.Config.GridDim));
    }

    private void PassBaton(int lane) => _baton[(lane + 1) % Size].Set();

    // Only the previous lane sets this lane's event, once per turn, so resetting after the wait cannot lose a pass.
    private void TakeBaton(int lane, CancellationToken token)
    {
        _baton[lane].Wait(token);
        _baton[lane].Reset();
    }

    private void ThreadMain(int lane)
    {
        using var context = new LaneContext();
        while (true)
        {
            _start[lane].Wait();
            if (_exit) return;
            var job = _job!;
            try
            {
                Run(lane, job, context);
            }
            finally
            {
                LaneContext.Current = null;
                context.ReleaseLocals();
                job.Finished.Signal();
            }
        }
    }

    private void Run(int lane, TeamJob job, LaneContext context)
    {
        var token = job.Cancellation.Token;
        try
        {
            while (true)
            {
                if (Sequential) TakeBaton(lane, token);
                if (_currentGroup >= job.TotalGroups)
                {
                    if (Sequential && lane + 1 < Size) PassBaton(lane);
                    return;
                }
                RunLane(lane, job, context, () =>
                {
                    _sync.Finish(NextGroup, token);
                    if (Sequential) PassBaton(lane);
                });
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Broken = true;
        }
    }

    private void RunLane(int lane, TeamJob job, LaneContext context, Action finish)
    {
        context.BeginLane(_group, lane);
        LaneContext.Current = context;
        try
        {
            job.Lane();
            finish();
        }
        catch (OperationCanceledException) when (job.Cancellation.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            Broken = true;
            job.Fail(_group.GridIndex, context.ThreadIndex, exception);
            throw new OperationCanceledException(job.Cancellation.Token);
        }
        finally
        {
            LaneContext.Current = null;
        }
    }

    internal static Index3D Decode(long linear, Index3D dim) =>
        new((int)(linear % dim.X), (int)(linear / dim.X % dim.Y), (int)(linear / ((long)dim.X * dim.Y)));

    public void Dispose()
    {
        _exit = true;
        foreach (var start in _start) start.Release();
        // Called only when no job runs, so the lanes no longer touch the group memory.
        _group.Dispose();
    }
}
