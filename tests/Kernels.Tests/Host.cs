using GpuDeconv.Compute;

namespace GpuDeconv.Kernels.Tests;

/// <summary>Moving test data between the host and an accelerator, and seeded random inputs.</summary>
public static class Host
{
    /// <summary>Uploads <paramref name="data"/> (length must match the shape) and returns the buffer (caller disposes) and its tensor view.</summary>
    public static (MemoryBuffer1D<T, Stride1D.Dense> Buffer, TensorView<T> View) Upload<T>(Accelerator accelerator, T[] data, Shape shape) where T : unmanaged
    {
        if (data.Length != shape.Size) throw new ArgumentException($"{data.Length} values for shape {shape}.", nameof(data));
        var buffer = accelerator.Allocate1D<T>(Math.Max(1, data.Length));
        if (data.Length > 0) buffer.View.BaseView.SubView(0, data.Length).CopyFromCPU(data);
        // The copy is queued on the default stream; tests that launch on a stream of their own must not overtake it.
        accelerator.DefaultStream.Synchronize();
        return (buffer, new TensorView<T>(buffer.View.BaseView.SubView(0, data.Length), shape));
    }

    /// <summary>Allocates a tensor of <paramref name="shape"/> filled with <paramref name="fill"/> bytes (0xFF makes stale outputs visible as NaN / -1).</summary>
    public static (MemoryBuffer1D<T, Stride1D.Dense> Buffer, TensorView<T> View) Allocate<T>(Accelerator accelerator, Shape shape, byte fill = 0xFF) where T : unmanaged
    {
        var buffer = accelerator.Allocate1D<T>(Math.Max(1, shape.Size));
        buffer.MemSet(fill);
        // Queued on the default stream: a kernel on another stream could otherwise run first and be overwritten.
        accelerator.DefaultStream.Synchronize();
        return (buffer, new TensorView<T>(buffer.View.BaseView.SubView(0, shape.Size), shape));
    }

    /// <summary>Waits for the view's accelerator and copies the view to the host.</summary>
    public static T[] Download<T>(TensorView<T> view) where T : unmanaged
    {
        if (view.Shape.Size == 0) return [];
        return view.Data.GetAsArray1D();
    }

    /// <summary><paramref name="count"/> uniform values in [-1, 1) from <paramref name="seed"/>.</summary>
    public static float[] Random(int seed, long count, float low = -1f, float high = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = low + (high - low) * random.NextSingle();
        return values;
    }

    /// <summary>1, 2, ..., count as floats (the test vectors of docs/reference/op-semantics.md section 7).</summary>
    public static float[] Iota(int count, float start = 1f)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = start + i;
        return values;
    }
}
