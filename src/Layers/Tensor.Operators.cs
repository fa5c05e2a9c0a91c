using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using GpuDeconv.Compute;

namespace GpuDeconv.Layers;

// Arithmetic operators (each one op of the autograd graph, as Functional's), a readable ToString, and arrays in and
// out as .NET users know them from System.Numerics.Tensors (FlattenTo, multidimensional arrays) and TorchSharp.
public sealed partial class Tensor
{
    /// <summary>How many values <see cref="ToString"/> shows before it elides the rest.</summary>
    public const int PreviewValues = 8;

    /// <summary>a + b elementwise (<see cref="Functional.Add"/>).</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Functional.Add(a, b);

    /// <summary>a - b elementwise (<see cref="Functional.Subtract"/>).</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Functional.Subtract(a, b);

    /// <summary>a * b elementwise (<see cref="Functional.Multiply"/>).</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Functional.Multiply(a, b);

    /// <summary>a / b elementwise (<see cref="Functional.Divide"/>).</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Functional.Divide(a, b);

    /// <summary>-a (<see cref="Functional.Scale"/> by -1: exact).</summary>
    public static Tensor operator -(Tensor a) => Functional.Scale(a, -1f);

    /// <summary>a + value elementwise.</summary>
    public static Tensor operator +(Tensor a, float value) => Functional.AddScalar(a, value);

    /// <summary>value + a elementwise.</summary>
    public static Tensor operator +(float value, Tensor a) => Functional.AddScalar(a, value);

    /// <summary>a - value elementwise (a + (-value): the same bits).</summary>
    public static Tensor operator -(Tensor a, float value) => Functional.AddScalar(a, -value);

    /// <summary>value - a elementwise (value + (-a): the same bits).</summary>
    public static Tensor operator -(float value, Tensor a)
    {
        using var intermediates = TensorScope.ForIntermediates();
        return intermediates.Keep(Functional.AddScalar(Functional.Scale(a, -1f), value));
    }

    /// <summary>a * factor elementwise.</summary>
    public static Tensor operator *(Tensor a, float factor) => Functional.Scale(a, factor);

    /// <summary>factor * a elementwise.</summary>
    public static Tensor operator *(float factor, Tensor a) => Functional.Scale(a, factor);

    /// <summary>a / divisor elementwise (a true division).</summary>
    public static Tensor operator /(Tensor a, float divisor) => Functional.DivideByScalar(a, divisor);

    /// <summary>dividend / a elementwise.</summary>
    public static Tensor operator /(float dividend, Tensor a) => Functional.ScalarDivide(dividend, a);

    /// <summary>
    /// Shape, element type, accelerator, name, whether it takes part in autograd, and the first
    /// <see cref="PreviewValues"/> values in row-major order, e.g.
    /// <c>Tensor[2, 3] Float32 on CPU (host, 2 cores) 'w' requires grad: [0.5, -1, 2, 0, 3.25, 1]</c>.
    /// Reading the values waits for the work queued on the tensor's stream, as <see cref="ToArray()"/> does.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder("Tensor").Append(Shape).Append(' ').Append(DType).Append(" on ").Append(Accelerator);
        if (Name is not null) text.Append(" '").Append(Name).Append('\'');
        if (RequiresGrad) text.Append(" requires grad");
        if (_disposed || Accelerator.IsDisposed) return text.Append(" (disposed)").ToString();
        text.Append(": [");
        long shown = Math.Min(Size, PreviewValues);
        if (shown > 0)
        {
            string[] values = DType switch
            {
                DType.Float32 => Array.ConvertAll(View.Data.SubView(0, shown).GetAsArray1D(Stream), v => v.ToString("G6", CultureInfo.InvariantCulture)),
                DType.Int64 => Array.ConvertAll(LongView.Data.SubView(0, shown).GetAsArray1D(Stream), v => v.ToString(CultureInfo.InvariantCulture)),
                _ => Array.ConvertAll(IntView.Data.SubView(0, shown).GetAsArray1D(Stream), v => v.ToString(CultureInfo.InvariantCulture)),
            };
            text.AppendJoin(", ", values);
        }
        if (Size > shown) text.Append(CultureInfo.InvariantCulture, $", ... ({Size} values)");
        return text.Append(']').ToString();
    }

    /// <summary>Copies the float values into <paramref name="destination"/> in row-major order (System.Numerics.Tensors' <c>FlattenTo</c>); waits for queued work.</summary>
    /// <exception cref="ArgumentException">The destination holds fewer than <see cref="Size"/> values.</exception>
    /// <exception cref="InvalidOperationException">The tensor holds integers.</exception>
    public void FlattenTo(Span<float> destination)
    {
        ThrowIfDisposed();
        if (DType != DType.Float32)
            throw new InvalidOperationException($"FlattenTo: Tensor{Describe()} holds {DType}; read it with ToArray<long>() or ToArray<int>().");
        if (destination.Length < Size)
            throw new ArgumentException($"FlattenTo: Tensor{Describe()} has {Size} values but the destination holds {destination.Length}.", nameof(destination));
        if (Size == 0) return;
        View.Data.CopyToCPU(Stream, destination[..(int)Size]);
        Stream.Synchronize();
    }

    /// <summary>A tensor of shape [rows, columns] holding <paramref name="data"/>.</summary>
    public static Tensor FromArray(Accelerator accelerator, float[,] data, bool requiresGrad = false) =>
        FromMultidimensional(accelerator, data, requiresGrad);

    /// <summary>A tensor of shape [d0, d1, d2] holding <paramref name="data"/> (for example [H, W, C] of one image).</summary>
    public static Tensor FromArray(Accelerator accelerator, float[,,] data, bool requiresGrad = false) =>
        FromMultidimensional(accelerator, data, requiresGrad);

    /// <summary>A tensor of shape [d0, d1, d2, d3] holding <paramref name="data"/> (for example an NHWC batch, or HWIO filters).</summary>
    public static Tensor FromArray(Accelerator accelerator, float[,,,] data, bool requiresGrad = false) =>
        FromMultidimensional(accelerator, data, requiresGrad);

    private static Tensor FromMultidimensional(Accelerator accelerator, Array data, bool requiresGrad)
    {
        ArgumentNullException.ThrowIfNull(data);
        var dims = new int[data.Rank];
        for (int i = 0; i < dims.Length; i++) dims[i] = data.GetLength(i);
        var flat = System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(
            ref Unsafe.As<byte, float>(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(data)), data.Length);
        return FromArray(accelerator, flat, new Shape(dims), requiresGrad);
    }
}
