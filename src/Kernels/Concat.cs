// tf.concat along any axis, and its gradient (the slices of the output gradient, as TF's ConcatGrad does).
//   inputs[k]: [d0, ..., a_k, ..., d(r-1)], all of rank r >= 1 and equal except along axis;
//   output: the same with a = a_0 + a_1 + ... along axis (tf.concat's shape rule); axis in [-r, r) as in TF.
// Each tensor is viewed as [outer, a_k * inner] with outer = d0*...*d(axis-1) and inner = d(axis+1)*...*d(r-1), so
// input k is a block of columns starting at column (a_0 + ... + a_(k-1)) * inner of the output's [outer, a * inner]
// rows. One strided-copy launch per input (one thread per element of the input: reads fully coalesced, writes
// coalesced in runs of a_k * inner floats); the backward pass runs the same copy the other way. The deconv
// tutorial's summary image joins [x | layer1 | layer2] along width: [1, 24, 24, 3] x 3 -> [1, 24, 72, 3].
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>tf.concat along one axis and its gradient; outputs must not alias inputs.</summary>
public static class Concat
{
    /// <summary>output = the inputs joined along <paramref name="axis"/> (negative axes count from the end).</summary>
    /// <exception cref="ArgumentException">There are no inputs, an input is a scalar, the ranks differ, the axis is out of range, a dimension other than the axis differs, output's shape is not the joined shape, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, ReadOnlySpan<TensorView<float>> inputs, int axis, TensorView<float> output)
    {
        const string op = "Concat.Forward";
        var (outer, inner, rowLength) = Check(stream, op, inputs, "inputs", ref axis, output, "output");
        int offset = 0;
        foreach (var input in inputs)
        {
            int slice = input.Shape[axis] * inner;
            if (slice > 0 && outer > 0 && HostRoute.Of(stream) is { } cpu)
                HostOps.CopyRows(cpu, input.Data, output.Data, outer, slice, slice, 0, rowLength, offset);
            else if (slice > 0 && outer > 0)
                stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(InsertKernel)(
                    stream, outer * slice, input.Data, output.Data, slice, rowLength, offset);
            offset += slice;
        }
    }

    /// <summary>inputGrads[k] = the slice of outputGrad that input k filled in <see cref="Forward"/> (negative axes count from the end).</summary>
    /// <exception cref="ArgumentException">There are no inputGrads, one is a scalar, the ranks differ, the axis is out of range, a dimension other than the axis differs, outputGrad's shape is not the joined shape, a view does not hold its shape, or a view lives on another accelerator.</exception>
    public static void Backward(AcceleratorStream stream, TensorView<float> outputGrad, int axis, ReadOnlySpan<TensorView<float>> inputGrads)
    {
        const string op = "Concat.Backward";
        var (outer, inner, rowLength) = Check(stream, op, inputGrads, "inputGrads", ref axis, outputGrad, "outputGrad");
        int offset = 0;
        foreach (var inputGrad in inputGrads)
        {
            int slice = inputGrad.Shape[axis] * inner;
            if (slice > 0 && outer > 0 && HostRoute.Of(stream) is { } cpu)
                HostOps.CopyRows(cpu, outputGrad.Data, inputGrad.Data, outer, slice, rowLength, offset, slice, 0);
            else if (slice > 0 && outer > 0)
                stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(ExtractKernel)(
                    stream, outer * slice, outputGrad.Data, inputGrad.Data, slice, rowLength, offset);
            offset += slice;
        }
    }

    /// <summary>Forward copy of one input: element (row, col) of source [outer, slice] goes to target[row * rowLength + offset + col].</summary>
    public static void InsertKernel(Index1D i, ArrayView<float> source, ArrayView<float> target, int slice, int rowLength, int offset)
    {
        int row = i / slice;
        int col = i - row * slice;
        target[row * rowLength + offset + col] = source[i];
    }

    /// <summary>Backward copy of one slice: target [outer, slice] element (row, col) = source[row * rowLength + offset + col].</summary>
    public static void ExtractKernel(Index1D i, ArrayView<float> source, ArrayView<float> target, int slice, int rowLength, int offset)
    {
        int row = i / slice;
        int col = i - row * slice;
        target[i] = source[row * rowLength + offset + col];
    }

    // Validates the parts against the joined tensor and normalises axis; returns outer, inner and the joined
    // tensor's row length a * inner.
    private static (int Outer, int Inner, int RowLength) Check(AcceleratorStream stream, string op, ReadOnlySpan<TensorView<float>> parts, string partsName,
        ref int axis, TensorView<float> joined, string joinedName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (parts.Length == 0)
            throw new ArgumentException($"{op}: {partsName} is empty; concat needs at least one tensor.", partsName);
        for (int k = 0; k < parts.Length; k++)
        {
            ShapeCheck.View(op, $"{partsName}[{k}]", parts[k]);
            ShapeCheck.SameAccelerator(op, stream, $"{partsName}[{k}]", parts[k]);
        }
        var first = parts[0].Shape;
        int rank = first.Rank;
        if (rank == 0)
            throw new ArgumentException($"{op}: {partsName}[0] is a scalar (shape []); scalars cannot be concatenated (use a [1] tensor).", partsName);
        if (axis < -rank || axis >= rank)
            throw new ArgumentException($"{op}: axis {axis} is out of range for {partsName} of rank {rank}; it must lie in [{-rank}, {rank}).", nameof(axis));
        if (axis < 0) axis += rank;
        long joinedAxis = 0;
        for (int k = 0; k < parts.Length; k++)
        {
            var shape = parts[k].Shape;
            bool match = shape.Rank == rank;
            for (int d = 0; match && d < rank; d++)
                match = d == axis || shape[d] == first[d];
            if (!match)
                throw new ArgumentException($"{op}: {partsName}[{k}] has shape {shape} but {partsName}[0] has {first}; all must have rank {rank} and equal dimensions except along axis {axis}.", partsName);
            joinedAxis += shape[axis];
        }
        if (joinedAxis > int.MaxValue)
            throw new ArgumentException($"{op}: the joined axis {axis} would have {joinedAxis} entries, more than {int.MaxValue}.", partsName);
        var dims = first.Dims;
        dims[axis] = (int)joinedAxis;
        var expected = new Shape(dims);
        ShapeCheck.View(op, joinedName, joined);
        ShapeCheck.Equal(op, joinedName, joined.Shape, expected, $"the {partsName} joined along axis {axis}");
        ShapeCheck.SameAccelerator(op, stream, joinedName, joined);
        // An empty result copies nothing (and its outer or inner product might not even fit an int).
        if (Elementwise.CheckedSize(op, joinedName, expected) == 0) return (0, 0, 0);
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= dims[d];
        for (int d = axis + 1; d < rank; d++) inner *= dims[d];
        return (outer, inner, dims[axis] * inner);
    }
}
