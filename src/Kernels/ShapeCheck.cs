namespace GpuDeconv.Kernels;

/// <summary>Checks at the public boundary of every op; each message names the op, the argument, its shape and the rule.</summary>
internal static class ShapeCheck
{
    /// <summary>Requires rank <paramref name="rank"/> (e.g. 4 for NHWC) and a view that holds exactly the shape's elements.</summary>
    public static void Tensor<T>(string op, string name, TensorView<T> view, int rank, string layout) where T : unmanaged
    {
        if (view.Shape is null)
            throw new ArgumentException($"{op}: {name} has no shape.", name);
        if (view.Shape.Rank != rank)
            throw new ArgumentException($"{op}: {name} must be rank {rank} ({layout}), but its shape is {view.Shape}.", name);
        View(op, name, view);
    }

    /// <summary>Requires a view that holds exactly the shape's elements (any rank).</summary>
    public static void View<T>(string op, string name, TensorView<T> view) where T : unmanaged
    {
        if (view.Shape is null)
            throw new ArgumentException($"{op}: {name} has no shape.", name);
        if (view.Data.Length != view.Shape.Size)
            throw new ArgumentException($"{op}: {name} has shape {view.Shape} ({view.Shape.Size} elements) but its view holds {view.Data.Length}.", name);
    }

    /// <summary>Requires <paramref name="actual"/> to equal <paramref name="expected"/>, naming the rule that produced the expectation.</summary>
    public static void Equal(string op, string name, Shape actual, Shape expected, string rule)
    {
        if (actual != expected)
            throw new ArgumentException($"{op}: {name} must have shape {expected} ({rule}), but it is {actual}.", name);
    }

    /// <summary>Requires all given views to live on the accelerator of <paramref name="stream"/>.</summary>
    public static void SameAccelerator<T>(string op, Compute.AcceleratorStream stream, string name, TensorView<T> view) where T : unmanaged
    {
        var owner = view.Accelerator;
        if (owner is not null && !ReferenceEquals(owner, stream.Accelerator))
            throw new ArgumentException($"{op}: {name} lives on '{owner.Name}' ({owner.AcceleratorType}) but the stream belongs to '{stream.Accelerator.Name}' ({stream.Accelerator.AcceleratorType}).", name);
    }
}
