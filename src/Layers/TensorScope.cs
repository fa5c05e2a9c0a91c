namespace GpuDeconv.Layers;

/// <summary>
/// Disposes, when it ends, every tensor created on this thread while it was the innermost scope, except those
/// passed to <see cref="Keep"/>: a training step in a scope hands all its temporaries back to the allocator.
/// </summary>
/// <example><code>
/// using (var step = new TensorScope())
/// {
///     var loss = model.Loss(images, labels);
///     loss.Backward();
///     optimizer.Step();
///     lossValue = step.Keep(loss);   // survives the scope; dispose it later
/// }
/// </code></example>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;

    private readonly TensorScope? _outer;
    private readonly HashSet<Tensor> _tensors = new(ReferenceEqualityComparer.Instance);
    private readonly List<Tensor> _order = [];
    private readonly bool _releaseToGraph;
    private bool _disposed;

    /// <summary>Starts a scope on this thread (nested inside the current one, if any).</summary>
    public TensorScope() : this(releaseToGraph: false)
    {
    }

    private TensorScope(bool releaseToGraph)
    {
        _releaseToGraph = releaseToGraph;
        _outer = _current;
        _current = this;
    }

    /// <summary>
    /// A scope for the intermediates of a forward pass (a model's <c>Forward</c>, a composite op): when it ends, every
    /// tensor made in it and not passed to <see cref="Keep"/> is handed to the autograd graph with
    /// <see cref="Tensor.ReleaseToGraph"/>, as Python drops a local when a PyTorch forward returns: the graph keeps what
    /// its backward needs, <see cref="Tensor.Backward"/> with <c>freeIntermediates</c> frees each as soon as it is spent,
    /// and the enclosing scope frees the rest. Outside autograd recording they are disposed at once.
    /// </summary>
    /// <example><code>
    /// public override Tensor Forward(Tensor images)
    /// {
    ///     using var intermediates = TensorScope.ForIntermediates();
    ///     var h = Functional.Relu(conv1.Forward(images));
    ///     return intermediates.Keep(fc.Forward(h.Reshape([h.Shape[0], (int)(h.Size / h.Shape[0])])));
    /// }
    /// </code></example>
    public static TensorScope ForIntermediates() => new(releaseToGraph: true);

    /// <summary>
    /// Until the returned handle is disposed, tensors created on this thread belong to no scope: their owner disposes
    /// them. For state an object creates lazily while a caller's scope is active (a layer's weights rearranged on first
    /// use), which must outlive that scope.
    /// </summary>
    /// <example><code>
    /// using (TensorScope.Untracked()) _weight = Tensor.FromArray(accelerator, values, shape);
    /// </code></example>
    public static IDisposable Untracked() => new Suspension();

    private sealed class Suspension : IDisposable
    {
        private readonly TensorScope? _suspended = _current;
        private bool _done;

        public Suspension() => _current = null;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            _current = _suspended;
        }
    }

    /// <summary>Moves <paramref name="tensor"/> out of this scope, to the enclosing scope if there is one, so it survives this scope's end.</summary>
    public Tensor Keep(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (_tensors.Remove(tensor)) _outer?.Add(tensor);
        return tensor;
    }

    internal static void Track(Tensor tensor) => _current?.Add(tensor);

    /// <summary>Stops tracking <paramref name="tensor"/> without handing it to any scope: its owner disposes it (a leaf's gradient).</summary>
    internal void Release(Tensor tensor) => _tensors.Remove(tensor);

    private void Add(Tensor tensor)
    {
        if (_tensors.Add(tensor)) _order.Add(tensor);
    }

    /// <summary>Disposes the scope's tensors (newest first) and makes the enclosing scope current again.</summary>
    /// <exception cref="InvalidOperationException">An inner scope is still open.</exception>
    public void Dispose()
    {
        if (_disposed) return;
        if (!ReferenceEquals(_current, this))
            throw new InvalidOperationException("TensorScope: scopes must end in the reverse order they started (an inner scope is still open).");
        _disposed = true;
        _current = _outer;
        for (int i = _order.Count - 1; i >= 0; i--)
        {
            var tensor = _order[i];
            if (!_tensors.Contains(tensor)) continue;
            if (_releaseToGraph && Autograd.IsRecording)
            {
                tensor.ReleaseToGraph();
                _outer?.Add(tensor);
            }
            else
            {
                tensor.Dispose();
            }
        }
        _tensors.Clear();
        _order.Clear();
    }
}
