// Reductions: tf.reduce_sum, tf.reduce_mean, tf.reduce_max over any set of axes, tf.argmax along one axis,
// and the backward of sum and mean (dy broadcast back over the reduced axes).
//
//   x: any rank, row-major.  axes: distinct, in [-rank, rank); an empty list reduces nothing (TF's axis=[]).
//   output: x's shape with every reduced dim set to 1 (keepDims) or removed; either form is accepted.
//   Argmax: output = x's shape without `axis`, int64 indices (TF's default output_type).
//   count = product of the reduced dims; Mean = Sum / count (an empty reduction gives 0 / 0 = NaN as in TF),
//   Max of an empty reduction is -inf.
//
// Plan (host): dims of size 1 are dropped and neighbouring dims of the same kind (reduced / kept) merged, so a
// reduction becomes alternating groups. Each reduced group, innermost first, is one [Outer, R, Inner] step:
//   - Inner == 1 and R > ShortRow: "rows", a group of 256 lanes per row chunk with a shared-memory tree;
//     long rows with few of them (a full reduction) are split into chunks whose partials a second pass reduces.
//   - otherwise "columns", one thread per output element walking R with stride Inner, consecutive threads on
//     consecutive inner elements (coalesced, e.g. bias gradients over [N*H*W, C]); few outputs with a long R are
//     split over R into partials [chunk, Outer*Inner] and a second pass sums the chunks in order.
// Non-contiguous axis sets run one step per reduced group through scratch memory. Every sum has a fixed order that
// depends only on the shape (never on the device), so results are deterministic and identical across accelerators.
//
// NaN policy: Sum/Mean propagate NaN as IEEE does; Max propagates NaN (any NaN in the reduced set gives NaN, as
// Math.Max does); Argmax treats NaN as the largest value, so the first NaN wins (as numpy.argmax).
using System.Globalization;
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Which associative operation a reduction step applies.</summary>
internal enum ReduceOp
{
    Sum = 0,
    Max = 1,
}

/// <summary>One reduction step over x viewed as <c>[Outer, Length, Inner]</c>, optionally split into chunks of <c>Length</c>.</summary>
internal struct ReduceLayout
{
    /// <summary>Product of the kept dims before the reduced group.</summary>
    public int Outer;
    /// <summary>The reduced extent R.</summary>
    public int Length;
    /// <summary>Product of the kept dims after the reduced group.</summary>
    public int Inner;
    /// <summary>How many chunks R is split into (1: the step writes final values).</summary>
    public int Chunks;
    /// <summary>Elements of R per chunk (the last chunk may be shorter).</summary>
    public int ChunkLength;
    /// <summary>0 = sum, 1 = max.</summary>
    public int Op;
    /// <summary>Every result is divided by this (the count for the last step of a mean, else 1).</summary>
    public float Divisor;
}

/// <summary>
/// Input dims merged into at most 8 alternating groups of kept and reduced dims (sizes S0..S7, bit g of
/// <see cref="ReducedMask"/> set when group g is reduced): maps an input element to its output element.
/// </summary>
internal struct BroadcastLayout
{
    /// <summary>Number of groups in use.</summary>
    public int Count;
    /// <summary>Bit g set: group g is reduced.</summary>
    public int ReducedMask;
    /// <summary>Group sizes, outermost first.</summary>
    public int S0, S1, S2, S3, S4, S5, S6, S7;
}

/// <summary>tf.reduce_sum / reduce_mean / reduce_max, tf.argmax and the backward of sum and mean; deterministic (no float atomics).</summary>
public static class Reductions
{
    /// <summary>Threads per group of the row kernel.</summary>
    public const int GroupSize = 256;

    // Rows no longer than this are summed by one thread each (a group of 256 would idle).
    private const int ShortRow = 32;
    // Row chunks are at least this long, and rows are split until there are about RowGroupsTarget groups.
    private const int MinRowChunk = 2048;
    private const int RowGroupsTarget = 256;
    // Column steps are split over R until about ColumnThreadsTarget threads run, each summing at least MinColumnChunk.
    private const int ColumnThreadsTarget = 65536;
    private const int MinColumnChunk = 32;
    private const int MaxColumnChunks = 1024;
    private const int MaxGroups = 8;

    /// <summary>The shape of reducing <paramref name="input"/> over <paramref name="axes"/>: reduced dims become 1 (<paramref name="keepDims"/>) or are removed.</summary>
    /// <exception cref="ArgumentException">An axis is out of range or appears twice.</exception>
    public static Shape OutputShape(Shape input, ReadOnlySpan<int> axes, bool keepDims)
    {
        ArgumentNullException.ThrowIfNull(input);
        bool[] reduced = ReducedMask("Reductions.OutputShape", input, axes);
        return OutputShape(input, reduced, keepDims);
    }

    /// <summary>output = the sum of <paramref name="x"/> over <paramref name="axes"/> (tf.reduce_sum); output has the keepDims or the reduced shape.</summary>
    /// <exception cref="ArgumentException">An axis is out of range or repeated, the output shape matches neither form, or a view is on another accelerator.</exception>
    public static void Sum(AcceleratorStream s, TensorView<float> x, ReadOnlySpan<int> axes, TensorView<float> output) =>
        Reduce("Reductions.Sum", s, x, axes, output, ReduceOp.Sum, mean: false);

    /// <summary>output = the mean of <paramref name="x"/> over <paramref name="axes"/> (tf.reduce_mean: sum / count; an empty reduction gives NaN).</summary>
    /// <exception cref="ArgumentException">An axis is out of range or repeated, the output shape matches neither form, or a view is on another accelerator.</exception>
    public static void Mean(AcceleratorStream s, TensorView<float> x, ReadOnlySpan<int> axes, TensorView<float> output) =>
        Reduce("Reductions.Mean", s, x, axes, output, ReduceOp.Sum, mean: true);

    /// <summary>output = the maximum of <paramref name="x"/> over <paramref name="axes"/> (tf.reduce_max; NaN propagates, an empty reduction gives -inf).</summary>
    /// <exception cref="ArgumentException">An axis is out of range or repeated, the output shape matches neither form, or a view is on another accelerator.</exception>
    public static void Max(AcceleratorStream s, TensorView<float> x, ReadOnlySpan<int> axes, TensorView<float> output) =>
        Reduce("Reductions.Max", s, x, axes, output, ReduceOp.Max, mean: false);

    /// <summary>output = the index along <paramref name="axis"/> of the largest element (tf.argmax); the first maximum wins and NaN counts as the largest value.</summary>
    /// <exception cref="ArgumentException">The axis is out of range or empty, the output is not x's shape without the axis, or a view is on another accelerator.</exception>
    public static void Argmax(AcceleratorStream s, TensorView<float> x, int axis, TensorView<long> output)
    {
        const string op = "Reductions.Argmax";
        ArgumentNullException.ThrowIfNull(s);
        ShapeCheck.View(op, nameof(x), x);
        ShapeCheck.View(op, nameof(output), output);
        ShapeCheck.SameAccelerator(op, s, nameof(x), x);
        ShapeCheck.SameAccelerator(op, s, nameof(output), output);
        bool[] reduced = ReducedMask(op, x.Shape, [axis]);
        int a = axis < 0 ? axis + x.Shape.Rank : axis;
        ShapeCheck.Equal(op, nameof(output), output.Shape, OutputShape(x.Shape, reduced, keepDims: false),
            $"x {x.Shape} without axis {axis}");
        RequireIntSize(op, nameof(x), x.Shape);
        if (output.Shape.Size == 0) return;
        int k = x.Shape[a];
        if (k == 0)
            throw new ArgumentException($"{op}: axis {axis} of x {x.Shape} is empty; argmax needs at least one element along the axis.", nameof(x));
        int outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= x.Shape[d];
        for (int d = a + 1; d < x.Shape.Rank; d++) inner *= x.Shape[d];
        s.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<long>, int, int>(ArgmaxKernel)(
            s, outer * inner, x.Data, output.Data, k, inner);
    }

    /// <summary>inputGrad = outputGrad broadcast back over <paramref name="axes"/> (the gradient of <see cref="Sum"/>); inputGrad has x's shape.</summary>
    /// <exception cref="ArgumentException">An axis is out of range or repeated, outputGrad is not the reduced shape of inputGrad (either form), or a view is on another accelerator.</exception>
    public static void SumBackward(AcceleratorStream s, TensorView<float> outputGrad, ReadOnlySpan<int> axes, TensorView<float> inputGrad) =>
        Broadcast("Reductions.SumBackward", s, outputGrad, axes, inputGrad, mean: false);

    /// <summary>inputGrad = outputGrad broadcast back over <paramref name="axes"/> divided by the reduced count (the gradient of <see cref="Mean"/>).</summary>
    /// <exception cref="ArgumentException">An axis is out of range or repeated, outputGrad is not the reduced shape of inputGrad (either form), or a view is on another accelerator.</exception>
    public static void MeanBackward(AcceleratorStream s, TensorView<float> outputGrad, ReadOnlySpan<int> axes, TensorView<float> inputGrad) =>
        Broadcast("Reductions.MeanBackward", s, outputGrad, axes, inputGrad, mean: true);

    // ---- host side -------------------------------------------------------------------------------------------

    private static void Reduce(string op, AcceleratorStream s, TensorView<float> x, ReadOnlySpan<int> axes, TensorView<float> output, ReduceOp reduceOp, bool mean)
    {
        ArgumentNullException.ThrowIfNull(s);
        ShapeCheck.View(op, nameof(x), x);
        ShapeCheck.View(op, nameof(output), output);
        ShapeCheck.SameAccelerator(op, s, nameof(x), x);
        ShapeCheck.SameAccelerator(op, s, nameof(output), output);
        bool[] reduced = ReducedMask(op, x.Shape, axes);
        RequireReducedShape(op, nameof(output), output.Shape, x.Shape, "input", axes, reduced);
        RequireIntSize(op, nameof(x), x.Shape);
        if (output.Shape.Size == 0) return;

        long count = 1;
        for (int d = 0; d < reduced.Length; d++) if (reduced[d]) count *= x.Shape[d];
        float finalDivisor = mean ? (float)count : 1f;
        int outputSize = (int)output.Shape.Size;
        if (count <= 1)
        {
            // Nothing to combine (count 1), or an empty reduction (count 0): one element per output is copied,
            // or the identity (0, -inf; 0/0 = NaN for a mean) is written.
            var copy = Columns(outputSize, (int)count, 1, reduceOp, finalDivisor);
            // An empty x may come as a view without memory; the kernel reads nothing from it then.
            LaunchColumns(s, count == 0 ? output.Data : x.Data, output.Data, copy);
            return;
        }

        var groups = Canonical(x.Shape, reduced);
        // Plan every step first so that scratch is requested once (a second Get on the same slot may reallocate).
        var steps = new List<Step>();
        long tempSize = 0, partialSize = 0;
        var current = new List<(int Size, bool Reduced)>(groups);
        while (true)
        {
            int j = current.FindLastIndex(g => g.Reduced);
            if (j < 0) break;
            int outer = 1, inner = 1;
            for (int g = 0; g < j; g++) outer *= current[g].Size;
            for (int g = j + 1; g < current.Count; g++) inner *= current[g].Size;
            var step = new Step(outer, current[j].Size, inner, Plan(outer, current[j].Size, inner, allowSplit: true));
            steps.Add(step);
            partialSize = Math.Max(partialSize, step.PartialSize);
            current.RemoveAt(j);
            if (j > 0 && j < current.Count && !current[j - 1].Reduced && !current[j].Reduced)
            {
                current[j - 1] = (current[j - 1].Size * current[j].Size, false);
                current.RemoveAt(j);
            }
            if (current.Exists(g => g.Reduced)) tempSize = Math.Max(tempSize, (long)outer * inner);
        }

        ArrayView<float> scratch = tempSize + partialSize > 0
            ? Scratch.Get<float>(s, Scratch.SplitK, 2 * tempSize + partialSize)
            : default;
        var source = x.Data;
        for (int i = 0; i < steps.Count; i++)
        {
            bool last = i == steps.Count - 1;
            var step = steps[i];
            var target = last ? output.Data : scratch.SubView((i % 2) * tempSize, (long)step.Outer * step.Inner);
            var partials = step.PartialSize > 0 ? scratch.SubView(2 * tempSize, step.PartialSize) : default;
            RunStep(s, source, target, partials, step, reduceOp, last ? finalDivisor : 1f);
            source = target;
        }
    }

    private readonly record struct BlockPlan(bool Rows, int Chunks, int ChunkLength);

    private readonly record struct Step(int Outer, int Length, int Inner, BlockPlan Plan)
    {
        public long PartialSize => Plan.Chunks > 1 ? (long)Plan.Chunks * Outer * Inner : 0;
    }

    // How one [outer, length, inner] step runs; the choice depends only on the shape, so every device sums in the same order.
    private static BlockPlan Plan(int outer, int length, int inner, bool allowSplit)
    {
        if (inner == 1 && length > ShortRow)
        {
            int chunks = 1;
            if (allowSplit && outer < RowGroupsTarget)
                chunks = (int)Math.Min(CeilDiv(length, MinRowChunk), Math.Max(1, RowGroupsTarget / outer));
            int chunkLength = RoundUp(CeilDiv(length, chunks), GroupSize);
            return new BlockPlan(true, CeilDiv(length, chunkLength), chunkLength);
        }
        long threads = (long)outer * inner;
        if (!allowSplit || length <= 2 * MinColumnChunk || threads >= ColumnThreadsTarget)
            return new BlockPlan(false, 1, length);
        int split = (int)Math.Min(Math.Min(CeilDiv(ColumnThreadsTarget, threads), CeilDiv(length, MinColumnChunk)), MaxColumnChunks);
        int columnChunk = CeilDiv(length, split);
        return new BlockPlan(false, CeilDiv(length, columnChunk), columnChunk);
    }

    private static void RunStep(AcceleratorStream s, ArrayView<float> source, ArrayView<float> target, ArrayView<float> partials, Step step, ReduceOp op, float divisor)
    {
        var plan = step.Plan;
        bool split = plan.Chunks > 1;
        var firstTarget = split ? partials : target;
        var layout = new ReduceLayout
        {
            Outer = step.Outer, Length = step.Length, Inner = step.Inner,
            Chunks = plan.Chunks, ChunkLength = plan.ChunkLength, Op = (int)op, Divisor = split ? 1f : divisor,
        };
        if (plan.Rows) LaunchRows(s, source, firstTarget, layout);
        else LaunchColumns(s, source, firstTarget, layout);
        if (!split) return;

        // Second pass over the partials in chunk order: rows [outer, chunks] for row splits, columns [chunks, outer*inner] otherwise.
        var second = plan.Rows
            ? new Step(step.Outer, plan.Chunks, 1, Plan(step.Outer, plan.Chunks, 1, allowSplit: false))
            : new Step(1, plan.Chunks, step.Outer * step.Inner, Plan(1, plan.Chunks, step.Outer * step.Inner, allowSplit: false));
        var final = new ReduceLayout
        {
            Outer = second.Outer, Length = second.Length, Inner = second.Inner,
            Chunks = 1, ChunkLength = second.Length, Op = (int)op, Divisor = divisor,
        };
        if (second.Plan.Rows) LaunchRows(s, partials, target, final);
        else LaunchColumns(s, partials, target, final);
    }

    private static ReduceLayout Columns(int outer, int length, int inner, ReduceOp op, float divisor) => new()
    {
        Outer = outer, Length = length, Inner = inner, Chunks = 1, ChunkLength = length, Op = (int)op, Divisor = divisor,
    };

    private static void LaunchColumns(AcceleratorStream s, ArrayView<float> x, ArrayView<float> output, ReduceLayout layout) =>
        s.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, ReduceLayout>(ColumnsKernel)(
            s, layout.Chunks * layout.Outer * layout.Inner, x, output, layout);

    private static void LaunchRows(AcceleratorStream s, ArrayView<float> x, ArrayView<float> output, ReduceLayout layout) =>
        s.Accelerator.LoadKernel<ArrayView<float>, ArrayView<float>, ReduceLayout>(RowsKernel)(
            s, new KernelConfig(layout.Outer * layout.Chunks, GroupSize), x, output, layout);

    private static void Broadcast(string op, AcceleratorStream s, TensorView<float> outputGrad, ReadOnlySpan<int> axes, TensorView<float> inputGrad, bool mean)
    {
        ArgumentNullException.ThrowIfNull(s);
        ShapeCheck.View(op, nameof(outputGrad), outputGrad);
        ShapeCheck.View(op, nameof(inputGrad), inputGrad);
        ShapeCheck.SameAccelerator(op, s, nameof(outputGrad), outputGrad);
        ShapeCheck.SameAccelerator(op, s, nameof(inputGrad), inputGrad);
        bool[] reduced = ReducedMask(op, inputGrad.Shape, axes);
        RequireReducedShape(op, nameof(outputGrad), outputGrad.Shape, inputGrad.Shape, "inputGrad", axes, reduced);
        RequireIntSize(op, nameof(inputGrad), inputGrad.Shape);
        if (inputGrad.Shape.Size == 0) return;

        long count = 1;
        for (int d = 0; d < reduced.Length; d++) if (reduced[d]) count *= inputGrad.Shape[d];
        var groups = Canonical(inputGrad.Shape, reduced);
        if (groups.Count > MaxGroups)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{op}: reducing {inputGrad.Shape} over axes {Shape.Format(axes)} alternates between kept and reduced dims {groups.Count} times; at most {MaxGroups} alternating groups are supported."), nameof(axes));
        var layout = new BroadcastLayout { Count = groups.Count };
        for (int g = 0; g < groups.Count; g++)
        {
            if (groups[g].Reduced) layout.ReducedMask |= 1 << g;
            SetGroupSize(ref layout, g, groups[g].Size);
        }
        s.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, BroadcastLayout, float>(BroadcastKernel)(
            s, (int)inputGrad.Shape.Size, outputGrad.Data, inputGrad.Data, layout, mean ? (float)count : 1f);
    }

    private static bool[] ReducedMask(string op, Shape input, ReadOnlySpan<int> axes)
    {
        if (input is null) throw new ArgumentException($"{op}: the input has no shape.", nameof(input));
        int rank = input.Rank;
        var reduced = new bool[rank];
        foreach (int axis in axes)
        {
            if (axis < -rank || axis >= rank)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{op}: axis {axis} is out of range for input {input} of rank {rank}; axes must lie in [{-rank}, {rank})."), nameof(axes));
            int a = axis < 0 ? axis + rank : axis;
            if (reduced[a])
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{op}: axes {Shape.Format(axes)} name dimension {a} of input {input} twice; each axis may appear once."), nameof(axes));
            reduced[a] = true;
        }
        return reduced;
    }

    private static Shape OutputShape(Shape input, bool[] reduced, bool keepDims)
    {
        var dims = new List<int>(input.Rank);
        for (int d = 0; d < input.Rank; d++)
        {
            if (!reduced[d]) dims.Add(input[d]);
            else if (keepDims) dims.Add(1);
        }
        return new Shape(dims.ToArray());
    }

    private static void RequireReducedShape(string op, string name, Shape actual, Shape input, string inputName, ReadOnlySpan<int> axes, bool[] reduced)
    {
        if (actual is null) throw new ArgumentException($"{op}: {name} has no shape.", name);
        var kept = OutputShape(input, reduced, keepDims: true);
        var removed = OutputShape(input, reduced, keepDims: false);
        if (actual != kept && actual != removed)
            throw new ArgumentException(
                $"{op}: {name} must have shape {kept} (keepDims) or {removed} (reduced dims removed) for {inputName} {input} reduced over axes {Shape.Format(axes)}, but it is {actual}.", name);
    }

    private static void RequireIntSize(string op, string name, Shape shape)
    {
        if (shape.Size > int.MaxValue)
            throw new ArgumentException($"{op}: {name} {shape} has {shape.Size} elements; reductions index with 32-bit integers (at most {int.MaxValue}).", name);
    }

    // Drops dims of size 1 (they change no index) and merges neighbours of the same kind into alternating groups.
    private static List<(int Size, bool Reduced)> Canonical(Shape shape, bool[] reduced)
    {
        var groups = new List<(int Size, bool Reduced)>();
        for (int d = 0; d < shape.Rank; d++)
        {
            if (shape[d] == 1) continue;
            if (groups.Count > 0 && groups[^1].Reduced == reduced[d])
                groups[^1] = (groups[^1].Size * shape[d], reduced[d]);
            else
                groups.Add((shape[d], reduced[d]));
        }
        return groups;
    }

    private static void SetGroupSize(ref BroadcastLayout layout, int g, int size)
    {
        switch (g)
        {
            case 0: layout.S0 = size; break;
            case 1: layout.S1 = size; break;
            case 2: layout.S2 = size; break;
            case 3: layout.S3 = size; break;
            case 4: layout.S4 = size; break;
            case 5: layout.S5 = size; break;
            case 6: layout.S6 = size; break;
            default: layout.S7 = size; break;
        }
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;

    private static int RoundUp(int a, int multiple) => CeilDiv(a, multiple) * multiple;

    // ---- kernels -----------------------------------------------------------------------------------------------

    /// <summary>
    /// One thread per output element of a [Chunks, Outer, Inner] result: element (c, o, i) combines
    /// x[o, r, i] for r in chunk c, in increasing r. Consecutive threads read consecutive i (coalesced).
    /// </summary>
    private static void ColumnsKernel(Index1D index, ArrayView<float> x, ArrayView<float> output, ReduceLayout layout)
    {
        int t = index;
        int i = t % layout.Inner;
        int rest = t / layout.Inner;
        int o = rest % layout.Outer;
        int chunk = rest / layout.Outer;
        int start = chunk * layout.ChunkLength;
        int end = Math.Min(start + layout.ChunkLength, layout.Length);
        float acc = layout.Op == 0 ? 0f : float.NegativeInfinity;
        int offset = (o * layout.Length + start) * layout.Inner + i;
        for (int r = start; r < end; r++)
        {
            acc = Combine(layout.Op, acc, x[offset]);
            offset += layout.Inner;
        }
        output[t] = acc / layout.Divisor;
    }

    /// <summary>
    /// One group of <see cref="GroupSize"/> lanes per (row, chunk) of x viewed as [Outer, Length]: lanes stride
    /// through the chunk, then a shared-memory tree combines the lanes; writes output[row * Chunks + chunk].
    /// </summary>
    private static void RowsKernel(ArrayView<float> x, ArrayView<float> output, ReduceLayout layout)
    {
        var partial = SharedMemory.Allocate<float>(GroupSize);
        int lane = Group.IdxX;
        int g = Grid.IdxX;
        int chunk = g % layout.Chunks;
        int row = g / layout.Chunks;
        int start = chunk * layout.ChunkLength;
        int end = Math.Min(start + layout.ChunkLength, layout.Length);
        int rowBase = row * layout.Length;
        float acc = layout.Op == 0 ? 0f : float.NegativeInfinity;
        for (int r = start + lane; r < end; r += GroupSize)
            acc = Combine(layout.Op, acc, x[rowBase + r]);
        partial[lane] = acc;
        Group.Barrier();
        for (int half = GroupSize / 2; half > 0; half /= 2)
        {
            if (lane < half)
                partial[lane] = Combine(layout.Op, partial[lane], partial[lane + half]);
            Group.Barrier();
        }
        if (lane == 0)
            output[g] = partial[0] / layout.Divisor;
    }

    /// <summary>One thread per output element of x viewed as [outer, k, inner]: the first index of the largest value (NaN counts as largest).</summary>
    private static void ArgmaxKernel(Index1D index, ArrayView<float> x, ArrayView<long> output, int k, int inner)
    {
        int t = index;
        int i = t % inner;
        int o = t / inner;
        int offset = o * k * inner + i;
        float best = x[offset];
        int bestIndex = 0;
        for (int j = 1; j < k; j++)
        {
            offset += inner;
            float v = x[offset];
            // Strict > keeps the first maximum; a NaN beats any number, and the first NaN stays.
            if (v > best || (float.IsNaN(v) && !float.IsNaN(best)))
            {
                best = v;
                bestIndex = j;
            }
        }
        output[t] = bestIndex;
    }

    /// <summary>One thread per input element: inputGrad[t] = outputGrad[the output element t reduces into] / divisor.</summary>
    private static void BroadcastKernel(Index1D index, ArrayView<float> outputGrad, ArrayView<float> inputGrad, BroadcastLayout layout, float divisor)
    {
        int t = index;
        int rest = t;
        int outIndex = 0;
        int outStride = 1;
        for (int g = layout.Count - 1; g >= 0; g--)
        {
            int size = GroupSizeOf(layout, g);
            int coordinate = rest % size;
            rest /= size;
            if (((layout.ReducedMask >> g) & 1) == 0)
            {
                outIndex += coordinate * outStride;
                outStride *= size;
            }
        }
        inputGrad[t] = outputGrad[outIndex] / divisor;
    }

    private static int GroupSizeOf(BroadcastLayout layout, int g) =>
        g == 0 ? layout.S0 : g == 1 ? layout.S1 : g == 2 ? layout.S2 : g == 3 ? layout.S3
        : g == 4 ? layout.S4 : g == 5 ? layout.S5 : g == 6 ? layout.S6 : layout.S7;

    private static float Combine(int op, float acc, float value) => op == 0 ? acc + value : Math.Max(acc, value);
}
