// Fills a tensor with one value (tf.fill / tf.zeros / tf.ones into an existing tensor).
//   output: any rank; output[i] = value for every i.
// One thread per element (implicitly grouped), coalesced. Float, int and long versions (argmax tensors are long).
using GpuDeconv.Compute;

namespace GpuDeconv.Kernels;

/// <summary>Sets every element of a tensor to one value.</summary>
public static class Fill
{
    /// <summary>output[i] = value for every element.</summary>
    /// <exception cref="ArgumentException">The view does not hold its shape, or lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<float> output, float value)
    {
        int n = Check(stream, "Fill.Forward", output);
        if (n == 0) return;
        if (HostRoute.Of(stream) is { } cpu)
        {
            HostOps.Fill(cpu, output.Data, value, n);
            return;
        }
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<float>, float>(FillFloatKernel)(stream, n, output.Data, value);
    }

    /// <summary>output[i] = value for every element.</summary>
    /// <exception cref="ArgumentException">The view does not hold its shape, or lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<int> output, int value)
    {
        int n = Check(stream, "Fill.Forward", output);
        if (n == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<int>, int>(FillIntKernel)(stream, n, output.Data, value);
    }

    /// <summary>output[i] = value for every element.</summary>
    /// <exception cref="ArgumentException">The view does not hold its shape, or lives on another accelerator.</exception>
    public static void Forward(AcceleratorStream stream, TensorView<long> output, long value)
    {
        int n = Check(stream, "Fill.Forward", output);
        if (n == 0) return;
        stream.Accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<long>, long>(FillLongKernel)(stream, n, output.Data, value);
    }

    /// <summary>output[i] = value.</summary>
    public static void FillFloatKernel(Index1D i, ArrayView<float> output, float value) => output[i] = value;

    /// <summary>output[i] = value.</summary>
    public static void FillIntKernel(Index1D i, ArrayView<int> output, int value) => output[i] = value;

    /// <summary>output[i] = value.</summary>
    public static void FillLongKernel(Index1D i, ArrayView<long> output, long value) => output[i] = value;

    private static int Check<T>(AcceleratorStream stream, string op, TensorView<T> output) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        ShapeCheck.View(op, "output", output);
        ShapeCheck.SameAccelerator(op, stream, "output", output);
        if (output.Shape.Size > int.MaxValue)
            throw new ArgumentException($"{op}: output has shape {output.Shape} ({output.Shape.Size} elements); the kernels index with 32-bit integers, so at most {int.MaxValue} elements are supported.", "output");
        return (int)output.Shape.Size;
    }
}
