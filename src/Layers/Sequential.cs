namespace GpuDeconv.Layers;

/// <summary>A chain of modules, each fed the previous one's output (PyTorch's nn.Sequential); children are named by the caller or by position ("0", "1", ...).</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = [];

    /// <summary>Chains <paramref name="layers"/>, named by their position.</summary>
    /// <exception cref="ArgumentException">A layer is null.</exception>
    public Sequential(params IEnumerable<Module> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var layer in layers) Add(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer);
    }

    /// <summary>Chains <paramref name="layers"/> under the given names (<c>("conv1", conv), ("relu1", new Relu())</c>).</summary>
    /// <exception cref="ArgumentException">A name is empty, repeated or contains '/'.</exception>
    public Sequential(params IEnumerable<(string Name, Module Layer)> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var (name, layer) in layers) Add(name, layer);
    }

    /// <summary>Appends <paramref name="layer"/> as a child called <paramref name="name"/>; returns this for chaining.</summary>
    /// <exception cref="ArgumentException">The name is empty, taken or contains '/'.</exception>
    public Sequential Add(string name, Module layer)
    {
        ArgumentNullException.ThrowIfNull(layer, name);
        _layers.Add(Register(name, layer));
        return this;
    }

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<Module> Layers => _layers;

    /// <summary>Runs the layers in order.</summary>
    /// <remarks>The outputs between layers are the graph's alone (<see cref="TensorScope.ForIntermediates"/>): only the last goes to the caller.</remarks>
    public override Tensor Forward(Tensor input)
    {
        using var intermediates = TensorScope.ForIntermediates();
        var x = input;
        foreach (var layer in _layers) x = layer.Forward(x);
        return ReferenceEquals(x, input) ? x : intermediates.Keep(x);
    }
}

/// <summary>tf.nn.relu as a layer (no parameters), for <see cref="Sequential"/>.</summary>
public sealed class Relu : Module
{
    /// <summary>max(input, 0).</summary>
    public override Tensor Forward(Tensor input) => Functional.Relu(input);
}

/// <summary>tf.nn.max_pool as a layer (no parameters), for <see cref="Sequential"/>.</summary>
/// <param name="size">The window (height, width).</param>
/// <param name="stride">The step between windows; defaults to the window size.</param>
/// <param name="padding">SAME or VALID, as tf.nn.max_pool.</param>
public sealed class MaxPool2d(Size2d size, Size2d? stride = null, Padding padding = Padding.Same) : Module
{
    /// <summary>The max over each window of the NHWC input.</summary>
    public override Tensor Forward(Tensor input) => Functional.MaxPool(input, size, stride ?? size, padding);
}

/// <summary>Reshapes [B, d1, d2, ...] to [B, d1 * d2 * ...] without copying (the tutorials' tf.reshape before a fully connected layer).</summary>
public sealed class Flatten : Module
{
    /// <summary>The input viewed as [B, rest].</summary>
    /// <exception cref="ArgumentException">The input has rank 0.</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank == 0)
            throw new ArgumentException($"Flatten: input {input.Shape} is a scalar; it needs a batch dimension.", nameof(input));
        int batch = input.Shape[0];
        return input.Reshape([batch, batch == 0 ? 0 : (int)(input.Size / batch)]);
    }
}
