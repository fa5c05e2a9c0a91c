// Unpool: the tutorials' un_max_pool, i.e. tf.scatter_nd of pooled values to the argmax switches
// (docs/reference/op-semantics.md sections 3 and 4), and its gradient.
//
// Shapes: values and argmax: [N, h, w, C] NHWC (argmax as MaxPoolWithArgmax writes it); output: [N, H, W, C]
// with the same N and C and any H, W (the pre-pool size, odd sizes included: 5x5 -> pool 2 SAME -> 3x3 -> 5x5).
// Target of element e = (b, i, j, c) with index m = argmax[e]:
//   includeBatchInIndex = false: t = b*(H*W*C) + m, valid when 0 <= m < H*W*C (b is the element's own batch);
//   includeBatchInIndex = true:  t = m,             valid when 0 <= m < N*H*W*C.
// output = zeros; output[t] += values[e] for every e. We use the full flat index m, channel included; the
// tutorial takes y and x from m and the channel from the element's position, which agrees for indices from
// pooling, and it assumes Wout = 2*Wpool, which gets odd pre-pool sizes wrong; this does not.
// Duplicate targets SUM, as scatter_nd does, in increasing element order, deterministically.
//
// Forward, UnpoolIndices.Validate (the default): one host synchronisation per call.
//   1. Prepare: zero the output and the per-target hit counts (Scratch.Counts), reset the status words (Scratch.Status).
//   2. Check, one thread per element: out-of-range -> integer Atomic.Min of the element id into status[0];
//      otherwise Atomic.Add on counts[t]; a second hit raises status[1] (the largest multiplicity) with Atomic.Max.
//      Integer atomics only; the results do not depend on their order.
//   3. Read the two status words: a bad element -> ArgumentException naming it (the output is then unspecified).
//   4. Multiplicity 1 (any pooling with stride >= size): one plain-store pass. Otherwise one round per multiplicity:
//      Claim: every element not yet added (e > last[t]) offers its id with Atomic.Min on owners[t] (Scratch.Owners);
//      Commit: the winner adds its value (one writer per target per round) and records last[t] = e.
//      Each round adds the smallest remaining id of every target, so sums accumulate in increasing element order
//      and the result is bit-identical on every accelerator and every run.
// Forward, UnpoolIndices.TrustedUnique: for switches from MaxPoolWithArgmax with non-overlapping windows
//   (stride >= size, so no two elements share a target). Zero-fill and one plain-store pass, no validation and no
//   synchronisation; out-of-range indices are skipped (never written out of bounds); duplicates, if any, would
//   race (one of the values wins).
// On devices that run on the host (Device.RunsHostKernels), both modes first take PoolVector.cs's row kernels, a lane per
//   row of values, no atomics per element: one gather pass that writes every output cell (no zero-fill) and checks
//   that every switch names a cell of its element's own block (rows i*ceil(H/h) .., columns j*ceil(W/w) .., same image
//   and channel), which pooling switches with stride >= size and no top/left padding satisfy, and proves the targets
//   unique. TrustedUnique: a second pass stores the values of the rows whose switches missed their blocks; done, no
//   synchronisation. Validate: one synchronisation reads the result; any switch outside its block (out of range
//   included) reruns steps 1-4 from scratch, which throw for out-of-range elements as above.
// Backward (gather): valuesGrad[e] = outputGrad[t]; no synchronisation. Indices are validated by Forward; an
//   out-of-range index gets gradient 0 (its value was never placed), the policy of TrustedUnique.
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>The sizes an unpooling kernel needs, passed by value.</summary>
internal struct UnpoolLayout
{
    /// <summary>Elements of values (and argmax).</summary>
    public int Elements;
    /// <summary>Elements of one batch image of values: h*w*C.</summary>
    public int ValuesPerImage;
    /// <summary>Elements of one batch image of the output: H*W*C.</summary>
    public long OutputPerImage;
    /// <summary>Elements of the output: N*H*W*C.</summary>
    public long OutputElements;
    /// <summary>1 when the indices include the batch (((b*H + y)*W + x)*C + c), 0 when they do not.</summary>
    public int IncludeBatch;
}

/// <summary>Scatters pooled values back to their argmax positions (<c>tf.scatter_nd</c> as the deconvnet tutorials use it) and its gradient.</summary>
public static class Unpool
{
    private const string Op = "Unpool";
    private const string BackwardOp = "Unpool.Backward";
    private const int NoElement = int.MaxValue;

    /// <summary>
    /// Overwrites <paramref name="output"/> with zeros plus, for every element e, <c>values[e]</c> added at the flat index
    /// <c>argmax[e]</c> (within e's batch image unless <paramref name="includeBatchInIndex"/>); duplicates sum in element order.
    /// With <see cref="UnpoolIndices.Validate"/> this synchronizes the stream once to read the validation result.
    /// </summary>
    /// <exception cref="ArgumentException">A shape is wrong (values not rank 4, argmax not values' shape, output not rank 4 or with another batch or channel count), a view lives on another accelerator, or (Validate) an index is out of range: the message names the element, its index and the valid range.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<float> values, TensorView<long> argmax,
                               TensorView<float> output, bool includeBatchInIndex = false,
                               UnpoolIndices indices = UnpoolIndices.Validate) =>
        ForwardWith(stream, values, argmax, output, includeBatchInIndex, indices, hostShaped: null);

    /// <summary><see cref="Forward(AcceleratorStream, TensorView{float}, TensorView{long}, TensorView{float}, bool, UnpoolIndices)"/> with the kernel family forced (null: by device).</summary>
    internal static void ForwardWith(AcceleratorStream stream, TensorView<float> values, TensorView<long> argmax,
                                 TensorView<float> output, bool includeBatchInIndex, UnpoolIndices indices, bool? hostShaped)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var layout = Check(Op, stream, values, argmax, nameof(output), output, includeBatchInIndex);
        if (indices != UnpoolIndices.Validate && indices != UnpoolIndices.TrustedUnique)
            throw new ArgumentException($"{Op}: indices mode {indices} is neither Validate nor TrustedUnique.", nameof(indices));
        if (layout.OutputElements == 0)
        {
            if (layout.Elements > 0 && indices == UnpoolIndices.Validate)
                throw new ArgumentException($"{Op}: output {output.Shape} has no cells, so no index of values {values.Shape} can be in range.", nameof(output));
            return;
        }
        var accelerator = stream.Accelerator;
        if (MaxPoolWithArgmax.UsesHostKernels(stream, hostShaped) && layout.Elements > 0 && ForwardRows(stream, values, argmax, output, layout.IncludeBatch, indices))
            return;
        if (indices == UnpoolIndices.TrustedUnique)
        {
            output.Data.MemSetToZero(stream);
            if (layout.Elements > 0)
                accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, UnpoolLayout>(StoreKernel)(
                    stream, layout.Elements, values.Data, argmax.Data, output.Data, layout);
            return;
        }

        var counts = Scratch.Get<int>(stream, Scratch.Counts, layout.OutputElements);
        var status = Scratch.Get<int>(stream, Scratch.Status, 2);
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>>(PrepareKernel)(
            stream, (int)layout.OutputElements, output.Data, counts, status);
        if (layout.Elements == 0) return;
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<long>, ArrayView<int>, ArrayView<int>, UnpoolLayout>(CheckKernel)(
            stream, layout.Elements, argmax.Data, counts, status, layout);
        var result = new int[2];
        status.CopyToCPU(stream, result);
        if (result[0] != NoElement) throw OutOfRange(stream, values.Shape, argmax, output.Shape, layout, result[0]);

        if (result[1] <= 1)
        {
            accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, UnpoolLayout>(StoreKernel)(
                stream, layout.Elements, values.Data, argmax.Data, output.Data, layout);
            return;
        }
        // counts now serves as last[t], the id of the last element added to target t.
        var owners = Scratch.Get<int>(stream, Scratch.Owners, layout.OutputElements);
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<int>, ArrayView<int>>(ResetRoundsKernel)(
            stream, (int)layout.OutputElements, counts, owners);
        var claim = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<long>, ArrayView<int>, ArrayView<int>, UnpoolLayout>(ClaimKernel);
        var commit = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, ArrayView<int>, ArrayView<int>, UnpoolLayout>(CommitKernel);
        for (int round = 0; round < result[1]; round++)
        {
            claim(stream, layout.Elements, argmax.Data, counts, owners, layout);
            commit(stream, layout.Elements, values.Data, argmax.Data, output.Data, counts, owners, layout);
        }
    }

    /// <summary>
    /// The host-shaped passes: PoolVector's gather, then for TrustedUnique its second pass over the rows that missed
    /// (done, no synchronisation), for Validate the status word: false when a switch lies outside its block, so that
    /// the general path runs from scratch and reports any bad index. False for both when the gather's offsets would not
    /// be exact (the general path runs).
    /// </summary>
    private static bool ForwardRows(AcceleratorStream stream, TensorView<float> values, TensorView<long> argmax, TensorView<float> output,
                                    int includeBatch, UnpoolIndices indices)
    {
        var v = values.Shape;
        var o = output.Shape;
        var rows = new UnpoolRows
        {
            Batch = v[0],
            InH = v[1],
            InW = v[2],
            Channels = v[3],
            OutH = o[1],
            OutW = o[2],
            BlockH = (o[1] + v[1] - 1) / v[1],
            BlockW = (o[2] + v[2] - 1) / v[2],
            IncludeBatch = includeBatch,
        };
        if (!PoolVector.GatherFits(rows)) return false;
        var status = Scratch.Get<int>(stream, Scratch.Status, 2);
        var misses = Scratch.Get<int>(stream, Scratch.Counts, (long)rows.Batch * rows.InH);
        bool validate = indices == UnpoolIndices.Validate;
        if (validate) stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<int>>(ResetStatusKernel)(stream, 1, status);
        PoolVector.UnpoolGather(stream, values.Data, argmax.Data, output.Data, status, misses, rows);
        if (!validate)
        {
            PoolVector.UnpoolMissed(stream, values.Data, argmax.Data, output.Data, misses, rows);
            return true;
        }
        var result = new int[2];
        status.CopyToCPU(stream, result);
        return result[1] != PoolVector.OutsideBlock;
    }

    /// <summary>
    /// Overwrites <paramref name="valuesGrad"/> with <c>outputGrad</c> read at each element's target (gather); an element whose
    /// index is out of range (which <see cref="Forward"/> rejects) gets 0. Does not synchronize.
    /// </summary>
    /// <exception cref="ArgumentException">A shape is wrong (valuesGrad not rank 4, argmax not valuesGrad's shape, outputGrad not rank 4 or with another batch or channel count), or a view lives on another accelerator.</exception>
    public static void Backward(AcceleratorStream stream, TensorView<float> outputGrad, TensorView<long> argmax,
                                TensorView<float> valuesGrad, bool includeBatchInIndex = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var layout = Check(BackwardOp, stream, valuesGrad, argmax, nameof(outputGrad), outputGrad, includeBatchInIndex, valuesName: nameof(valuesGrad));
        if (layout.Elements == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<long>, ArrayView<float>, UnpoolLayout>(GatherKernel)(
            stream, layout.Elements, outputGrad.Data, argmax.Data, valuesGrad.Data, layout);
    }

    private static UnpoolLayout Check(string op, AcceleratorStream stream, TensorView<float> values, TensorView<long> argmax,
                                      string outputName, TensorView<float> output, bool includeBatch, string valuesName = "values")
    {
        ShapeCheck.Tensor(op, valuesName, values, 4, "[N, h, w, C] NHWC");
        if (argmax.Shape is null) throw new ArgumentException($"{op}: argmax has no shape.", nameof(argmax));
        ShapeCheck.Equal(op, nameof(argmax), argmax.Shape, values.Shape, $"one index per element of {valuesName}");
        ShapeCheck.View(op, nameof(argmax), argmax);
        ShapeCheck.Tensor(op, outputName, output, 4, "[N, H, W, C] NHWC");
        if (output.Shape[0] != values.Shape[0] || output.Shape[3] != values.Shape[3])
            throw new ArgumentException(
                $"{op}: {outputName} {output.Shape} must have the batch size and channel count of {valuesName} {values.Shape} (only H and W change).", outputName);
        Pooling.RequireIndexable(op, valuesName, values.Shape);
        Pooling.RequireIndexable(op, outputName, output.Shape);
        ShapeCheck.SameAccelerator(op, stream, valuesName, values);
        ShapeCheck.SameAccelerator(op, stream, nameof(argmax), argmax);
        ShapeCheck.SameAccelerator(op, stream, outputName, output);
        var s = values.Shape;
        var o = output.Shape;
        return new UnpoolLayout
        {
            Elements = (int)s.Size,
            ValuesPerImage = s[1] * s[2] * s[3],
            OutputPerImage = (long)o[1] * o[2] * o[3],
            OutputElements = o.Size,
            IncludeBatch = includeBatch ? 1 : 0,
        };
    }

    private static ArgumentException OutOfRange(AcceleratorStream stream, Shape valuesShape, TensorView<long> argmax, Shape outputShape,
                                                UnpoolLayout layout, int element)
    {
        var index = new long[1];
        argmax.Data.SubView(element, 1).CopyToCPU(stream, index);
        int c = element % valuesShape[3];
        int rest = element / valuesShape[3];
        int j = rest % valuesShape[2];
        rest /= valuesShape[2];
        int i = rest % valuesShape[1];
        int b = rest / valuesShape[1];
        string range = layout.IncludeBatch != 0
            ? $"[0, {layout.OutputElements}) (N*H*W*C of output {outputShape}, indices include the batch)"
            : $"[0, {layout.OutputPerImage}) (H*W*C of output {outputShape}, indices within the element's batch image)";
        return new ArgumentException(
            $"{Op}: argmax[{b}, {i}, {j}, {c}] (element {element}, the first bad one) is {index[0]}, outside the valid range {range}.", nameof(argmax));
    }

    /// <summary>The flat output index of element <paramref name="e"/> with index <paramref name="m"/>, or -1 when out of range.</summary>
    internal static long Target(int e, long m, UnpoolLayout layout)
    {
        if (m < 0) return -1;
        if (layout.IncludeBatch != 0) return m < layout.OutputElements ? m : -1;
        if (m >= layout.OutputPerImage) return -1;
        return (long)(e / layout.ValuesPerImage) * layout.OutputPerImage + m;
    }

    /// <summary>One thread: no bad element yet, no target outside its block (the host row pass's status words).</summary>
    internal static void ResetStatusKernel(Index1D index, ArrayView<int> status)
    {
        status[0] = NoElement;
        status[1] = 0;
    }

    /// <summary>One thread per output cell: output 0, hit count 0; the first also resets the status words.</summary>
    internal static void PrepareKernel(Index1D index, ArrayView<float> output, ArrayView<int> counts, ArrayView<int> status)
    {
        int t = index;
        output[t] = 0f;
        counts[t] = 0;
        if (t == 0)
        {
            status[0] = NoElement;   // the smallest out-of-range element id
            status[1] = 1;           // the largest multiplicity of a target
        }
    }

    /// <summary>One thread per element: range check and hit count (integer atomics; the results are order-independent).</summary>
    internal static void CheckKernel(Index1D index, ArrayView<long> argmax, ArrayView<int> counts, ArrayView<int> status, UnpoolLayout layout)
    {
        int e = index;
        long t = Target(e, argmax[e], layout);
        if (t < 0)
        {
            Atomic.Min(ref status[0], e);
            return;
        }
        int before = Atomic.Add(ref counts[t], 1);
        // Only repeated targets touch the shared maximum, so unique indices cause no contention on it.
        if (before >= 1) Atomic.Max(ref status[1], before + 1);
    }

    /// <summary>One thread per element: plain store to its target (targets unique); out-of-range indices are skipped.</summary>
    internal static void StoreKernel(Index1D index, ArrayView<float> values, ArrayView<long> argmax, ArrayView<float> output, UnpoolLayout layout)
    {
        int e = index;
        long t = Target(e, argmax[e], layout);
        if (t >= 0) output[t] = values[e];
    }

    /// <summary>One thread per output cell: no element added yet (last = -1), no owner.</summary>
    internal static void ResetRoundsKernel(Index1D index, ArrayView<int> last, ArrayView<int> owners)
    {
        int t = index;
        last[t] = -1;
        owners[t] = NoElement;
    }

    /// <summary>One thread per element: an element not yet added offers its id for its target; the smallest wins.</summary>
    internal static void ClaimKernel(Index1D index, ArrayView<long> argmax, ArrayView<int> last, ArrayView<int> owners, UnpoolLayout layout)
    {
        int e = index;
        long t = Target(e, argmax[e], layout);
        if (t >= 0 && e > last[t]) Atomic.Min(ref owners[t], e);
    }

    /// <summary>
    /// One thread per element: the round's owner of a target adds its value (the only writer of that cell this round),
    /// records itself as added and frees the target for the next round. Others only read owners[t], which is never theirs.
    /// </summary>
    internal static void CommitKernel(Index1D index, ArrayView<float> values, ArrayView<long> argmax, ArrayView<float> output,
                                      ArrayView<int> last, ArrayView<int> owners, UnpoolLayout layout)
    {
        int e = index;
        long t = Target(e, argmax[e], layout);
        if (t >= 0 && owners[t] == e)
        {
            output[t] += values[e];
            last[t] = e;
            owners[t] = NoElement;
        }
    }

    /// <summary>One thread per element: the gradient at its target, 0 when out of range.</summary>
    internal static void GatherKernel(Index1D index, ArrayView<float> outputGrad, ArrayView<long> argmax, ArrayView<float> valuesGrad, UnpoolLayout layout)
    {
        int e = index;
        long t = Target(e, argmax[e], layout);
        valuesGrad[e] = t >= 0 ? outputGrad[t] : 0f;
    }
}
