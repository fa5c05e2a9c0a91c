using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GpuDeconv.Compute;

/// <summary>
/// Eight floats handled as one value in kernel code: OpenCL's <c>float8</c>, a 256-bit vector on the
/// CPU accelerator, and a struct of eight floats on CUDA.
/// </summary>
/// <remarks>
/// <para>
/// GPU kernels get their width from many lanes. On a CPU device (pocl, the CPU accelerator) a lane is
/// one thread of a loop, and LLVM does not vectorise the loops inside a lane's body; kernels shaped for
/// CPUs state the vector width themselves with this type, so each lane computes a block of eight
/// contiguous outputs (channels in NHWC) with vector loads and fused multiply-adds.
/// </para>
/// <para>
/// Every operation is lane-wise and exactly rounded (<see cref="FusedMultiplyAdd"/> rounds once), so a
/// kernel gives bit-identical results on every accelerator. Loads and stores take a view and the index
/// of the first of eight consecutive elements; <see cref="LoadPartial"/> and <see cref="StorePartial"/>
/// touch only the first <c>count</c> of them, for the tail of a channel range that is not a multiple
/// of eight.
/// </para>
/// </remarks>
public readonly struct Float8
{
    /// <summary>Lanes in a value.</summary>
    public const int Width = 8;

    private readonly Vector256<float> _lanes;

    private Float8(Vector256<float> lanes) => _lanes = lanes;

    /// <summary>All eight lanes set to <paramref name="value"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float8 Splat(float value) => new(Vector256.Create(value));

    /// <summary>Elements <paramref name="index"/> .. <paramref name="index"/> + 7 of <paramref name="view"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float8 Load(ArrayView<float> view, long index)
    {
        CheckRange(view, index, Width);
        return new(Vector256.LoadUnsafe(ref view[index]));
    }

    /// <summary>The first <paramref name="count"/> elements from <paramref name="index"/> on; the other lanes are 0.</summary>
    /// <remarks>A <paramref name="count"/> of 8 or more loads all eight, 0 or less loads none.</remarks>
    public static Float8 LoadPartial(ArrayView<float> view, long index, int count)
    {
        if (count >= Width) return Load(view, index);
        var lanes = Vector256<float>.Zero;
        for (int lane = 0; lane < count; lane++) lanes = lanes.WithElement(lane, view[index + lane]);
        return new(lanes);
    }

    /// <summary>Writes the eight lanes to elements <paramref name="index"/> .. <paramref name="index"/> + 7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Float8 value, ArrayView<float> view, long index)
    {
        CheckRange(view, index, Width);
        value._lanes.StoreUnsafe(ref view[index]);
    }

    /// <summary>Writes the first <paramref name="count"/> lanes from <paramref name="index"/> on; the rest of the view is untouched.</summary>
    public static void StorePartial(Float8 value, ArrayView<float> view, long index, int count)
    {
        if (count >= Width)
        {
            Store(value, view, index);
            return;
        }
        for (int lane = 0; lane < count; lane++) view[index + lane] = value._lanes.GetElement(lane);
    }

    /// <summary><paramref name="a"/> * <paramref name="b"/> + <paramref name="c"/> per lane, rounded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float8 FusedMultiplyAdd(Float8 a, Float8 b, Float8 c) => new(Vector256.FusedMultiplyAdd(a._lanes, b._lanes, c._lanes));

    /// <summary>Lane-wise sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float8 Add(Float8 a, Float8 b) => new(a._lanes + b._lanes);

    /// <summary>Lane-wise product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float8 Multiply(Float8 a, Float8 b) => new(a._lanes * b._lanes);

    /// <summary>
    /// Per lane, <paramref name="ifAbove"/> where <paramref name="candidate"/> ranks above <paramref name="current"/> and
    /// <paramref name="otherwise"/> elsewhere, in the order that puts NaN above every number: candidate &gt; current, or
    /// candidate is NaN and current is not. Equal values and a NaN current do not rank above, so a running
    /// <c>best = SelectIfAbove(v, best, v, best)</c> keeps the first maximum and the first NaN (max pooling's rule).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float8 SelectIfAbove(Float8 candidate, Float8 current, Float8 ifAbove, Float8 otherwise)
    {
        var c = candidate._lanes;
        var b = current._lanes;
        // Not (c <= b), which also holds when either is NaN, and b is not NaN.
        var above = Vector256.AndNot(Vector256.Equals(b, b), Vector256.LessThanOrEqual(c, b));
        return new(Vector256.ConditionalSelect(above, ifAbove._lanes, otherwise._lanes));
    }

    /// <summary>One lane, for host code (kernels store the value instead).</summary>
    public float this[int lane] => _lanes.GetElement(lane);

    /// <inheritdoc/>
    public override string ToString() => _lanes.ToString();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckRange(ArrayView<float> view, long index, int count)
    {
        if (index < 0 || index > view.Length - count)
            throw new IndexOutOfRangeException($"Float8: elements {index}..{index + count - 1} are outside the view of {view.Length} elements.");
    }
}
