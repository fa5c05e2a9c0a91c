namespace GpuDeconv.Compute;

/// <summary>The grid of groups of the running explicitly grouped kernel (ILGPU's <c>Grid</c>).</summary>
/// <remarks>Outside a kernel the members throw <see cref="InvalidOperationException"/>.</remarks>
public static class Grid
{
    /// <summary>The index of the current group in the grid.</summary>
    public static Index3D Index => LaneContext.Grouped("Grid.Index").Group!.GridIndex;

    /// <summary>The number of groups in the grid.</summary>
    public static Index3D Dimension => LaneContext.Grouped("Grid.Dimension").Group!.Config.GridDim;

    public static int IdxX => LaneContext.Grouped("Grid.IdxX").Group!.GridIndex.X;

    public static int IdxY => LaneContext.Grouped("Grid.IdxY").Group!.GridIndex.Y;

    public static int IdxZ => LaneContext.Grouped("Grid.IdxZ").Group!.GridIndex.Z;

    public static int DimX => LaneContext.Grouped("Grid.DimX").Group!.Config.GridDim.X;

    public static int DimY => LaneContext.Grouped("Grid.DimY").Group!.Config.GridDim.Y;

    public static int DimZ => LaneContext.Grouped("Grid.DimZ").Group!.Config.GridDim.Z;

    /// <summary>The thread's index in the whole launch: group index times group size plus thread index, per component.</summary>
    public static Index3D GlobalIndex
    {
        get
        {
            var context = LaneContext.Grouped("Grid.GlobalIndex");
            var group = context.Group!;
            var dim = group.Config.GroupDim;
            return new Index3D(
                group.GridIndex.X * dim.X + context.ThreadIndex.X,
                group.GridIndex.Y * dim.Y + context.ThreadIndex.Y,
                group.GridIndex.Z * dim.Z + context.ThreadIndex.Z);
        }
    }

    /// <summary>The number of threads in the launch per component (grid size times group size).</summary>
    public static Index3D GlobalDimension
    {
        get
        {
            var config = LaneContext.Grouped("Grid.GlobalDimension").Group!.Config;
            return new Index3D(config.GridDim.X * config.GroupDim.X, config.GridDim.Y * config.GroupDim.Y, config.GridDim.Z * config.GroupDim.Z);
        }
    }

    /// <summary>The index of the current group in the grid, linearised X fastest (ILGPU's <c>Grid.LinearIndex</c>).</summary>
    public static int LinearIndex
    {
        get
        {
            var group = LaneContext.Grouped("Grid.LinearIndex").Group!;
            var index = group.GridIndex;
            var dim = group.Config.GridDim;
            return index.X + dim.X * (index.Y + dim.Y * index.Z);
        }
    }

    /// <summary>
    /// The thread's linear index in the launch as ILGPU defines it: <see cref="LinearIndex"/> times the group size plus
    /// <see cref="Group.LinearIndex"/>, so the threads of one group are consecutive. In 1-D launches this equals
    /// <c>GlobalIndex.X</c>; in 2-D and 3-D launches it is not <see cref="GlobalIndex"/> linearised over
    /// <see cref="GlobalDimension"/>.
    /// </summary>
    public static int GlobalLinearIndex
    {
        get
        {
            var lane = LaneContext.Grouped("Grid.GlobalLinearIndex");
            var group = lane.Group!;
            var index = group.GridIndex;
            var dim = group.Config.GridDim;
            return (index.X + dim.X * (index.Y + dim.Y * index.Z)) * group.Config.GroupDim.Size + lane.Lane;
        }
    }
}

/// <summary>The threads of the current group of the running explicitly grouped kernel (ILGPU's <c>Group</c>).</summary>
/// <remarks>Outside a kernel the members throw <see cref="InvalidOperationException"/>.</remarks>
public static class Group
{
    /// <summary>The index of the current thread in its group.</summary>
    public static Index3D Index => LaneContext.Grouped("Group.Index").ThreadIndex;

    /// <summary>The number of threads in a group.</summary>
    public static Index3D Dimension => LaneContext.Grouped("Group.Dimension").Group!.Config.GroupDim;

    public static int IdxX => LaneContext.Grouped("Group.IdxX").ThreadIndex.X;

    public static int IdxY => LaneContext.Grouped("Group.IdxY").ThreadIndex.Y;

    public static int IdxZ => LaneContext.Grouped("Group.IdxZ").ThreadIndex.Z;

    public static int DimX => LaneContext.Grouped("Group.DimX").Group!.Config.GroupDim.X;

    public static int DimY => LaneContext.Grouped("Group.DimY").Group!.Config.GroupDim.Y;

    public static int DimZ => LaneContext.Grouped("Group.DimZ").Group!.Config.GroupDim.Z;

    /// <summary>The thread's index in its group linearised X fastest.</summary>
    public static int LinearIndex => LaneContext.Grouped("Group.LinearIndex").Lane;

    public static bool IsFirstThread => LaneContext.Grouped("Group.IsFirstThread").Lane == 0;

    public static bool IsLastThread
    {
        get
        {
            var context = LaneContext.Grouped("Group.IsLastThread");
            return context.Lane == context.Group!.Config.GroupDim.Size - 1;
        }
    }

    /// <summary>Waits until every thread of the group has reached this barrier; shared memory writes before it are visible after it.</summary>
    public static void Barrier() => LaneContext.Grouped("Group.Barrier").Barrier();

    /// <summary>A barrier that returns how many threads of the group passed a true <paramref name="predicate"/>.</summary>
    public static int BarrierPopCount(bool predicate) => LaneContext.Grouped("Group.BarrierPopCount").BarrierPopCount(predicate);

    /// <summary>A barrier that returns true when every thread of the group passed a true <paramref name="predicate"/>.</summary>
    public static bool BarrierAnd(bool predicate)
    {
        var context = LaneContext.Grouped("Group.BarrierAnd");
        return context.BarrierPopCount(predicate) == context.Group!.Config.GroupDim.Size;
    }

    /// <summary>A barrier that returns true when any thread of the group passed a true <paramref name="predicate"/>.</summary>
    public static bool BarrierOr(bool predicate) => LaneContext.Grouped("Group.BarrierOr").BarrierPopCount(predicate) > 0;
}
