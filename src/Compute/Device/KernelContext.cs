using System.Runtime.InteropServices;

namespace GpuDeconv.Compute;

/// <summary>Makes the threads of one group wait for each other (CPU accelerator).</summary>
internal interface IGroupBarrier
{
    void Wait(int lane);
}

/// <summary>The state one group of a CPU launch shares: indices, shared memory and the barrier.</summary>
/// <remarks>Reused for consecutive groups by one worker or lane team; native memory is freed on dispose.</remarks>
internal sealed unsafe class GroupState : IDisposable
{
    private readonly List<(nint Pointer, long Bytes)> _shared = [];
    private int _sharedUsed;
    private nint _dynamic;
    private long _dynamicCapacity;

    public readonly object Lock = new();

    // BarrierPopCount counters; see LaneContext.BarrierPopCount for why three.
    public readonly int[] PopCounts = new int[3];

    public KernelConfig Config;
    public string KernelName = string.Empty;
    public Index3D GridIndex;
    public IGroupBarrier? Barrier;

    public void BeginLaunch(string kernelName, KernelConfig config, IGroupBarrier? barrier)
    {
        KernelName = kernelName;
        Config = config;
        Barrier = barrier;
        long dynamicBytes = config.SharedMemoryConfig.DynamicSizeInBytes;
        if (dynamicBytes > _dynamicCapacity)
        {
            NativeMemory.AlignedFree((void*)_dynamic);
            _dynamic = (nint)NativeMemory.AlignedAlloc((nuint)dynamicBytes, 64);
            _dynamicCapacity = dynamicBytes;
        }
    }

    public void BeginGroup(Index3D gridIndex)
    {
        GridIndex = gridIndex;
        _sharedUsed = 0;
        PopCounts.AsSpan().Clear();
        long dynamicBytes = Config.SharedMemoryConfig.DynamicSizeInBytes;
        if (dynamicBytes > 0) NativeMemory.Clear((void*)_dynamic, (nuint)dynamicBytes);
    }

    public ArrayView<T> Dynamic<T>() where T : unmanaged =>
        new(_dynamic, Config.SharedMemoryConfig.DynamicSizeInBytes / sizeof(T));

    /// <summary>The group's <paramref name="ordinal"/>-th static allocation; the first lane to reach it creates it, zeroed.</summary>
    public nint Shared(int ordinal, long bytes)
    {
        lock (Lock)
        {
            if (ordinal < _sharedUsed)
            {
                var existing = _shared[ordinal];
                if (existing.Bytes != bytes)
                    throw new InvalidOperationException(
                        $"Kernel {KernelName}: shared allocation #{ordinal} was requested with {bytes} bytes by one thread and {existing.Bytes} by another; " +
                        "every thread of a group must make the same SharedMemory.Allocate calls in the same order.");
                return existing.Pointer;
            }
            if (ordinal != _sharedUsed)
                throw new InvalidOperationException($"Kernel {KernelName}: shared allocation #{ordinal} requested before #{_sharedUsed}.");
            nint pointer;
            if (ordinal < _shared.Count && _shared[ordinal].Bytes == bytes)
            {
                pointer = _shared[ordinal].Pointer;
            }
            else
            {
                pointer = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64);
                if (ordinal < _shared.Count)
                {
                    NativeMemory.AlignedFree((void*)_shared[ordinal].Pointer);
                    _shared[ordinal] = (pointer, bytes);
                }
                else
                {
                    _shared.Add((pointer, bytes));
                }
            }
            NativeMemory.Clear((void*)pointer, (nuint)bytes);
            _sharedUsed++;
            return pointer;
        }
    }

    public void Dispose()
    {
        foreach (var (pointer, _) in _shared) NativeMemory.AlignedFree((void*)pointer);
        _shared.Clear();
        NativeMemory.AlignedFree((void*)_dynamic);
        _dynamic = 0;
        _dynamicCapacity = 0;
    }
}

/// <summary>The per-thread state that Grid, Group, SharedMemory and LocalMemory read while the CPU accelerator runs a kernel.</summary>
internal sealed unsafe class LaneContext : IDisposable
{
    [ThreadStatic]
    private static LaneContext? t_current;

    private readonly List<(nint Pointer, long Bytes)> _local = [];
    private int _localUsed;

    public GroupState? Group;
    public Index3D ThreadIndex;
    public int Lane;
    public int SharedOrdinal;
    public int PopCountOrdinal;

    /// <summary>True while an implicitly grouped kernel runs: only LocalMemory is available.</summary>
    public bool IsImplicit;

    public static LaneContext? Current
    {
        get => t_current;
        set => t_current = value;
    }

    /// <summary>The current context of an explicitly grouped kernel.</summary>
    public static LaneContext Grouped(string member)
    {
        var context = t_current;
        if (context is null)
            throw new InvalidOperationException($"{member} is only valid inside a kernel running on an accelerator.");
        if (context.Group is null)
            throw new InvalidOperationException(
                $"{member} is only valid inside an explicitly grouped kernel (loaded with LoadStreamKernel/LoadKernel); implicitly grouped kernels have no groups on the CPU accelerator.");
        return context;
    }

    public void BeginLane(GroupState group, int lane)
    {
        Group = group;
        Lane = lane;
        var dim = group.Config.GroupDim;
        ThreadIndex = new Index3D(lane % dim.X, lane / dim.X % dim.Y, lane / (dim.X * dim.Y));
        SharedOrdinal = 0;
        PopCountOrdinal = 0;
        _localUsed = 0;
        IsImplicit = false;
    }

    public void BeginImplicit()
    {
        Group = null;
        IsImplicit = true;
        _localUsed = 0;
    }

    public void Barrier()
    {
        var group = Group!;
        if (group.Barrier is not null)
        {
            group.Barrier.Wait(Lane);
            return;
        }
        if (group.Config.GroupDim.Size > 1)
            throw new InvalidOperationException(
                $"Kernel {group.KernelName} calls a Group barrier but its generated definition lacks KernelFeatures.Barrier, so its lanes run one after another; " +
                "rebuild so the generator sees the barrier (a barrier inside a helper in another project is not detected).");
    }

    /// <summary>Counts the lanes whose predicate is true, synchronising the group.</summary>
    /// <remarks>
    /// Three rotating counters: call k adds to slot k%3; after the barrier lane 0 clears slot (k+2)%3,
    /// whose readers (call k-1) have all passed this barrier and whose next writers (call k+2) cannot
    /// start before lane 0 reaches barrier k+1.
    /// </remarks>
    public int BarrierPopCount(bool predicate)
    {
        var group = Group!;
        int k = PopCountOrdinal++;
        if (predicate) Interlocked.Increment(ref group.PopCounts[k % 3]);
        Barrier();
        int count = Volatile.Read(ref group.PopCounts[k % 3]);
        if (Lane == 0) Volatile.Write(ref group.PopCounts[(k + 2) % 3], 0);
        return count;
    }

    public ArrayView<T> Local<T>(int length) where T : unmanaged
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "LocalMemory.Allocate needs a length of zero or more.");
        long bytes = (long)length * sizeof(T);
        nint pointer;
        if (_localUsed < _local.Count && _local[_localUsed].Bytes >= bytes)
        {
            pointer = _local[_localUsed].Pointer;
        }
        else
        {
            pointer = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 1), 64);
            if (_localUsed < _local.Count)
            {
                NativeMemory.AlignedFree((void*)_local[_localUsed].Pointer);
                _local[_localUsed] = (pointer, bytes);
            }
            else
            {
                _local.Add((pointer, bytes));
            }
        }
        // Implicit kernels give no hook between indices, so their allocations accumulate until the chunk ends.
        _localUsed++;
        NativeMemory.Clear((void*)pointer, (nuint)bytes);
        return new ArrayView<T>(pointer, length);
    }

    /// <summary>Frees local memory kept since the last call (end of an implicit chunk or a launch).</summary>
    public void ReleaseLocals()
    {
        foreach (var (pointer, _) in _local) NativeMemory.AlignedFree((void*)pointer);
        _local.Clear();
        _localUsed = 0;
    }

    public void Dispose() => ReleaseLocals();
}
