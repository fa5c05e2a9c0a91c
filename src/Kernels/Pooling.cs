using System.Globalization;

namespace GpuDeconv.Kernels;

/// <summary>
/// The window arithmetic shared by the pooling ops (MaxPoolWithArgmax, MaxPool, AvgPool): TF's
/// GetWindowedOutputSizeVerbose with dilation 1 (docs/reference/op-semantics.md section 1), and their boundary checks.
/// </summary>
internal static class Pooling
{
    /// <summary>The geometry of pooling <paramref name="input"/> (NHWC, rank 4; the argument called <paramref name="name"/>) with <paramref name="options"/>; OutC = InC.</summary>
    /// <exception cref="ArgumentException">The input has no shape or is not rank 4, or a window size, stride or VALID output size is out of range.</exception>
    public static WindowGeometry Geometry(string op, string name, Shape? input, PoolOptions options)
    {
        if (input is null)
            throw new ArgumentException($"{op}: {name} has no shape.", name);
        if (input.Rank != 4)
            throw new ArgumentException($"{op}: {name} must be rank 4 ([N, H, W, C] NHWC), but its shape is {input}.", name);
        var rows = Windowing.Compute(op, "height", input[1], options.Size.Height, options.Stride.Height, 1, options.Padding);
        var columns = Windowing.Compute(op, "width", input[2], options.Size.Width, options.Stride.Width, 1, options.Padding);
        return new WindowGeometry
        {
            Batch = input[0],
            InH = input[1],
            InW = input[2],
            InC = input[3],
            OutH = rows.Output,
            OutW = columns.Output,
            OutC = input[3],
            KH = options.Size.Height,
            KW = options.Size.Width,
            StrideH = options.Stride.Height,
            StrideW = options.Stride.Width,
            DilationH = 1,
            DilationW = 1,
            PadTop = rows.PadBefore,
            PadLeft = columns.PadBefore,
        };
    }

    /// <summary>The pooled shape <c>[N, OutH, OutW, C]</c> of a geometry.</summary>
    public static Shape OutputShape(WindowGeometry g) => new(g.Batch, g.OutH, g.OutW, g.OutC);

    /// <summary>The rule an output shape follows, for error messages: "input [1, 5, 5, 3] pooled with window 2x2, stride 2x2, SAME".</summary>
    public static string Rule(Shape input, PoolOptions options) => $"input {input} pooled with {options}";

    /// <summary>
    /// Checks a tensor that must have the pooled shape (an output, its gradient, an argmax) and that the
    /// index space fits the kernels' 32-bit element numbering.
    /// </summary>
    public static void RequirePooled<T>(string op, string name, TensorView<T> view, Shape input, WindowGeometry g, PoolOptions options) where T : unmanaged
    {
        ShapeCheck.Equal(op, name, view.Shape ?? throw new ArgumentException($"{op}: {name} has no shape.", name), OutputShape(g), Rule(input, options));
        ShapeCheck.View(op, name, view);
    }

    /// <summary>
    /// Checks the full-size NHWC tensor of a pooling call (the input, or the input gradient): rank 4, a view that
    /// holds it, 32-bit indexable, on the stream's accelerator; returns the pooling geometry.
    /// </summary>
    public static WindowGeometry CheckFull<T>(string op, Compute.AcceleratorStream stream, string name, TensorView<T> full, PoolOptions options) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(stream);
        var g = Geometry(op, name, full.Shape, options);
        ShapeCheck.View(op, name, full);
        RequireIndexable(op, name, full.Shape);
        ShapeCheck.SameAccelerator(op, stream, name, full);
        return g;
    }

    /// <summary>Checks a pooled-size tensor (an output, its gradient, the switches): the pooled shape of <paramref name="input"/>, on the stream's accelerator.</summary>
    public static void CheckPooled<T>(string op, Compute.AcceleratorStream stream, string name, TensorView<T> view, Shape input, WindowGeometry g, PoolOptions options) where T : unmanaged
    {
        RequirePooled(op, name, view, input, g, options);
        ShapeCheck.SameAccelerator(op, stream, name, view);
    }

    /// <summary>Requires fewer than 2^31 elements: kernels number elements with 32-bit indices (flat offsets are 64-bit).</summary>
    public static void RequireIndexable(string op, string name, Shape shape)
    {
        if (shape.Size > int.MaxValue)
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{op}: {name} {shape} has {shape.Size} elements; at most {int.MaxValue} are supported (32-bit element numbering)."), name);
    }
}
