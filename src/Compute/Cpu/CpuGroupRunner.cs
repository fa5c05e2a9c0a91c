using System.ComponentModel;

namespace GpuDeconv.Compute;

/// <summary>Runs one group of a region-split kernel on one thread; generated code calls it between phases.</summary>
/// <remarks>
/// The generator cuts a barrier kernel's body at its barriers and runs each phase as a loop over the
/// lanes (pocl-style region splitting), so a barrier costs nothing. Each lane keeps its own
/// <see cref="LaneContext"/> (indices, local memory, allocation ordinals); <see cref="SetLane"/>
/// makes it current. One runner serves the groups one worker runs, one after another.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class CpuGroupRunner : IDisposable
{
    private readonly GroupState _group = new();
    private readonly LaneContext[] _lanes;
    private object? _locals;

    internal CpuGroupRunner(string kernelName, KernelConfig config)
    {
        _group.BeginLaunch(kernelName, config, null);
        _lanes = new LaneContext[config.GroupDim.Size];
        for (int i = 0; i < _lanes.Length; i++) _lanes[i] = new LaneContext();
    }

    /// <summary>The number of lanes (threads) in a group.</summary>
    public int LaneCount => _lanes.Length;

    /// <summary>The lane most recently made current, for error messages.</summary>
    internal int CurrentLane { get; private set; }

    internal Index3D GridIndex => _group.GridIndex;

    internal Index3D ThreadIndex => _lanes[CurrentLane].ThreadIndex;

    /// <summary>Makes <paramref name="lane"/> the thread that Grid, Group, SharedMemory and LocalMemory see.</summary>
    public void SetLane(int lane)
    {
        CurrentLane = lane;
        LaneContext.Current = _lanes[lane];
    }

    /// <summary>The per-lane storage of a kernel's locals that live across barriers, one element per lane, reused across groups.</summary>
    public T[] Locals<T>() where T : struct
    {
        if (_locals is T[] existing) return existing;
        var created = new T[_lanes.Length];
        _locals = created;
        return created;
    }

    internal void BeginGroup(Index3D gridIndex)
    {
        _group.BeginGroup(gridIndex);
        for (int i = 0; i < _lanes.Length; i++) _lanes[i].BeginLane(_group, i);
        CurrentLane = 0;
    }

    public void Dispose()
    {
        LaneContext.Current = null;
        foreach (var lane in _lanes) lane.Dispose();
        _group.Dispose();
    }
}
