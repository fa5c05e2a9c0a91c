using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    // The CPU accelerator inlines these into kernel loops. Each checks its range and reads the view's host address
    // once; every message is built in a throw helper that never returns, so the hot path holds no call: across a
    // call the JIT keeps a kernel's Float8 accumulators in memory (no vector register survives a call on x64 Unix).

    /// <summary>Elements <paramref name="index"/> .. <paramref name="index"/> + 7 of <paramref name="view"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Float8 Load(ArrayView<float> view, long index)
    {
        if (index < 0 || index > view.Length - Width) ThrowOutside(index, view.Length);
        return new(Vector256.Load(Address(view) + index));
    }

    /// <summary>The first <paramref name="count"/> elements from <paramref name="index"/> on; the other lanes are 0.</summary>
    /// <remarks>A <paramref name="count"/> of 8 or more loads all eight, 0 or less loads none.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Float8 LoadPartial(ArrayView<float> view, long index, int count)
    {
        if (count >= Width) return Load(view, index);
        if (count <= 0) return new(Vector256<float>.Zero);
        nint pointer = view.HostPointer;
        if (index < 0 || index > view.Length - count || pointer == 0) ThrowPartial(view, index, count);
        float* first = (float*)pointer + index;
        // A masked load reads only the selected elements (no fault past them).
        if (Avx.IsSupported) return new(Avx.MaskLoad(first, TailMask(count)));
        var lanes = Vector256<float>.Zero;
        for (int lane = 0; lane < count; lane++) lanes = lanes.WithElement(lane, first[lane]);
        return new(lanes);
    }

    /// <summary>Writes the eight lanes to elements <paramref name="index"/> .. <paramref name="index"/> + 7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(Float8 value, ArrayView<float> view, long index)
    {
        if (index < 0 || index > view.Length - Width) ThrowOutside(index, view.Length);
        value._lanes.Store(Address(view) + index);
    }

    /// <summary>Writes the first <paramref name="count"/> lanes from <paramref name="index"/> on; the rest of the view is untouched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StorePartial(Float8 value, ArrayView<float> view, long index, int count)
    {
        if (count >= Width)
        {
            Store(value, view, index);
            return;
        }
        if (count <= 0) return;
        nint pointer = view.HostPointer;
        if (index < 0 || index > view.Length - count || pointer == 0) ThrowPartial(value, view, index, count);
        float* first = (float*)pointer + index;
        if (Avx.IsSupported)
        {
            Avx.MaskStore(first, TailMask(count), value._lanes);
            return;
        }
        for (int lane = 0; lane < count; lane++) first[lane] = value._lanes.GetElement(lane);
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

    /// <summary>
    /// Writes <paramref name="origin"/> + <paramref name="positions"/>[l] * <paramref name="scale"/> + l to element
    /// <paramref name="index"/> + l, for the first <paramref name="count"/> lanes l: flat indices from positions counted
    /// in cells of <paramref name="scale"/> elements, lane l being the l-th element of a cell (a channel in NHWC).
    /// </summary>
    /// <remarks>
    /// Each position must be a whole number in the range of <see cref="int"/> (what a kernel counts cells with); lanes
    /// from <paramref name="count"/> on are neither converted nor written, and a count of 0 or less writes nothing.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreIndices(Float8 positions, long origin, int scale, ArrayView<long> view, long index, int count)
    {
        nint pointer = view.HostPointer;
        if (count >= Width && pointer != 0 && index >= 0 && index <= view.Length - Width)
        {
            var (low, high) = Vector256.Widen(Vector256.ConvertToInt32(positions._lanes));
            var first = Vector256.Create(origin) + Vector256.Create(0L, 1, 2, 3);
            long* target = (long*)pointer + index;
            if (Avx2.IsSupported)
            {
                // 32 x 32 -> 64-bit signed products of the low halves (positions and scale are ints).
                var step = Vector256.Create((long)scale).AsInt32();
                (Avx2.Multiply(low.AsInt32(), step) + first).Store(target);
                (Avx2.Multiply(high.AsInt32(), step) + first + Vector256.Create(4L)).Store(target + 4);
                return;
            }
            (low * scale + first).Store(target);
            (high * scale + first + Vector256.Create(4L)).Store(target + 4);
            return;
        }
        // A tail, or an access the view rejects: element by element, failing where the indexer does.
        for (int lane = 0; lane < Math.Min(count, Width); lane++)
            view[index + lane] = origin + (long)(int)positions._lanes.GetElement(lane) * scale + lane;
    }

    /// <summary>
    /// Lane l is element <paramref name="index"/> + l of <paramref name="view"/> minus (<paramref name="origin"/> + l),
    /// rounded to the nearest float, for the first <paramref name="count"/> lanes; the other lanes are 0. The inverse
    /// of <see cref="StoreIndices"/> with a scale of 1: an index's offset from the l-th element of a cell.
    /// </summary>
    /// <remarks>Offsets up to 2^24 in magnitude are exact; a count of 0 or less reads nothing.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Float8 LoadOffsets(ArrayView<long> view, long index, long origin, int count)
    {
        // No vector conversion from 64-bit integers without AVX-512: eight scalar conversions (round to nearest).
        nint pointer = view.HostPointer;
        if (count >= Width && pointer != 0 && index >= 0 && index <= view.Length - Width)
        {
            long* p = (long*)pointer + index;
            return new(Vector256.Create((float)(p[0] - origin), p[1] - origin - 1, p[2] - origin - 2, p[3] - origin - 3,
                                        p[4] - origin - 4, p[5] - origin - 5, p[6] - origin - 6, p[7] - origin - 7));
        }
        // A tail, or an access the view rejects: element by element, failing where the indexer does.
        var lanes = Vector256<float>.Zero;
        for (int lane = 0; lane < Math.Min(count, Width); lane++)
            lanes = lanes.WithElement(lane, (float)(view[index + lane] - origin - lane));
        return new(lanes);
    }

    /// <summary>One lane, for host code (kernels store the value instead).</summary>
    public float this[int lane] => _lanes.GetElement(lane);

    /// <inheritdoc/>
    public override string ToString() => _lanes.ToString();

    // Lanes 0 .. count-1 selected (sign bit set), for masked loads and stores.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> TailMask(int count) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe float* Address(ArrayView<float> view)
    {
        nint pointer = view.HostPointer;
        if (pointer == 0) ArrayView<float>.ThrowNotHostAddressable();
        return (float*)pointer;
    }

    // The throw helpers only throw (no NoInlining: the JIT must read them to learn that the call never returns).
    [DoesNotReturn]
    private static void ThrowOutside(long index, long length) =>
        throw new IndexOutOfRangeException($"Float8: elements {index}..{index + Width - 1} are outside the view of {length} elements.");

    [DoesNotReturn]
    private static void ThrowPartial(ArrayView<float> view, long index, int count) => throw PartialFailure(view, index, count, null);

    [DoesNotReturn]
    private static void ThrowPartial(Float8 value, ArrayView<float> view, long index, int count) => throw PartialFailure(view, index, count, value);

    // A partial access outside the view (or on device memory) fails as the element-wise access it stands for: at the
    // first element the view's indexer rejects, after the reads or writes before it.
    private static Exception PartialFailure(ArrayView<float> view, long index, int count, Float8? value)
    {
        try
        {
            for (int lane = 0; lane < count; lane++)
            {
                if (value is { } stored) view[index + lane] = stored._lanes.GetElement(lane);
                else _ = view[index + lane];
            }
        }
        catch (Exception exception) when (exception is IndexOutOfRangeException or InvalidOperationException)
        {
            return exception;
        }
        return new UnreachableException("Float8: a partial access was rejected but every element lies inside the view.");
    }
}
