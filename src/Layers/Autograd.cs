using GpuDeconv.Kernels;

namespace GpuDeconv.Layers;

/// <summary>
/// Reverse-mode automatic differentiation, micrograd-sized: each op output keeps its parents and a function from
/// its gradient to its parents' gradients; <see cref="Tensor.Backward"/> sorts the graph once and runs them.
/// </summary>
public static class Autograd
{
    [ThreadStatic] private static int _noGradDepth;

    /// <summary>Whether ops record their backward functions on this thread (false inside <see cref="NoGrad"/>).</summary>
    public static bool IsRecording => _noGradDepth == 0;

    /// <summary>Stops recording on this thread until the returned scope is disposed (evaluation, optimizer updates).</summary>
    public static IDisposable NoGrad()
    {
        _noGradDepth++;
        return new NoGradScope();
    }

    private sealed class NoGradScope : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _noGradDepth--;
        }
    }

    /// <summary>
    /// Records that <paramref name="output"/> came from <paramref name="parents"/>: when recording is on and a parent
    /// requires a gradient, <paramref name="backward"/> maps the output's gradient to one gradient per parent (null
    /// where a parent needs none). Returns the output.
    /// </summary>
    public static Tensor Record(Tensor output, Tensor[] parents, Func<Tensor, Tensor?[]> backward)
    {
        if (!IsRecording) return output;
        foreach (var parent in parents)
        {
            if (parent.RequiresGrad)
            {
                output.MarkRecorded(parents, backward);
                break;
            }
        }
        return output;
    }
}

public sealed partial class Tensor
{
    private Tensor[]? _parents;
    private Func<Tensor, Tensor?[]>? _backward;
    private bool _releasedToGraph;

    /// <summary>Whether the caller gave this tensor up to the autograd graph (<see cref="ReleaseToGraph"/>).</summary>
    public bool IsReleasedToGraph => _releasedToGraph;

    /// <summary>
    /// Gives up the caller's hold on this op output: the graph keeps it while its backward needs it, and
    /// <see cref="Backward"/> with <c>freeIntermediates</c> frees it once spent (a <see cref="TensorScope"/> or
    /// <see cref="Dispose"/> still frees it if no backward pass comes). Outside autograd recording nothing needs it any
    /// more, and it is disposed at once. Do not read it afterwards.
    /// </summary>
    public void ReleaseToGraph()
    {
        if (_disposed) return;
        if (!Autograd.IsRecording) Dispose();
        else _releasedToGraph = true;
    }

    /// <summary>
    /// Back-propagates from this tensor: its gradient is <paramref name="seed"/>, or 1 for a one-element tensor; every
    /// leaf that requires a gradient gets it added to its <see cref="Grad"/> (gradients accumulate until zeroed).
    /// </summary>
    /// <param name="seed">The gradient of this tensor; null for a one-element tensor (gradient 1).</param>
    /// <param name="freeIntermediates">
    /// Free what the graph alone holds as soon as the pass no longer needs it (once its own backward has run, every op
    /// of the graph that read it has run its backward too), as PyTorch frees the saved activations of a graph it does
    /// not retain: the op outputs that were handed to the graph with <see cref="ReleaseToGraph"/> (the intermediates of
    /// a model's forward pass, through <see cref="TensorScope.ForIntermediates"/>). A training step then holds a few
    /// layers' activations at the end of the pass rather than all of them. A tensor an op returned to the caller (the
    /// logits, kept for an accuracy) is never freed here: <see cref="Dispose"/> or a <see cref="TensorScope"/> frees it.
    /// </param>
    /// <exception cref="InvalidOperationException">The tensor does not require a gradient, or it has more than one element and no seed was given.</exception>
    /// <exception cref="ArgumentException">The seed's shape or accelerator differs from this tensor's, or it is not Float32.</exception>
    public void Backward(Tensor? seed = null, bool freeIntermediates = false)
    {
        ThrowIfDisposed();
        if (!RequiresGrad)
            throw new InvalidOperationException($"Backward: Tensor{Describe()} does not depend on any tensor that requires a gradient.");
        if (seed is null && Size != 1)
            throw new InvalidOperationException($"Backward: Tensor{Describe()} has {Size} elements; a backward pass from a non-scalar needs a seed gradient of shape {Shape}.");
        if (seed is not null)
        {
            if (seed.Shape != Shape)
                throw new ArgumentException($"Backward: the seed gradient has shape {seed.Shape} but Tensor{Describe()} has shape {Shape}.", nameof(seed));
            if (seed.DType != DType.Float32)
                throw new ArgumentException($"Backward: the seed gradient {seed.Shape} holds {seed.DType}; gradients are Float32.", nameof(seed));
            Functional.RequireSameAccelerator("Backward", ("tensor", this), ("seed", seed));
        }

        var order = TopologicalOrder();

        // The ops that read a node's output come after it in the order, so once the node is reached their backward
        // functions have all run, and once its own has run too the output is spent.
        void Spent(Tensor node)
        {
            if (freeIntermediates && node._releasedToGraph && node._backward is not null && !ReferenceEquals(node, this)) node.Dispose();
        }

        var gradients = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        using (var scope = new TensorScope())
        {
            using var noGrad = Autograd.NoGrad();
            gradients[this] = seed is null ? Ones(Accelerator, Shape) : seed.Clone();
            for (int i = order.Count - 1; i >= 0; i--)
            {
                var node = order[i];
                if (!gradients.Remove(node, out var gradient))
                {
                    Spent(node);
                    continue;
                }
                if (node._backward is null)
                {
                    // A leaf: the gradient belongs to it (disposed by ZeroGrad or with the leaf), not to the caller's
                    // scope, so it survives the step's TensorScope and can keep accumulating.
                    scope.Release(gradient);
                    if (node.Grad is null)
                    {
                        node.Grad = gradient;
                    }
                    else
                    {
                        Elementwise.Add(node.Stream, node.Grad.View, gradient.View, node.Grad.View);
                        gradient.Dispose();
                    }
                    continue;
                }
                var parentGradients = node._backward(gradient);
                var parents = node._parents!;
                // Every gradient kept for a later node is this pass's alone (a tensor an op hands to two inputs is
                // cloned for the second), so each can be disposed as soon as it is spent, and an op's backward may
                // write into the gradient it is given and hand it on (ReLU masks it in place).
                var kept = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
                for (int p = 0; p < parents.Length; p++)
                {
                    var parentGradient = parentGradients[p];
                    var parent = parents[p];
                    if (parentGradient is null || !parent.RequiresGrad) continue;
                    if (parentGradient.Shape != parent.Shape)
                        throw new InvalidOperationException($"Backward: an op gave a gradient of shape {parentGradient.Shape} for its input Tensor{parent.Describe()}; this is a bug in that op's backward.");
                    if (gradients.TryGetValue(parent, out var existing))
                    {
                        Elementwise.Add(parent.Stream, existing.View, parentGradient.View, existing.View);
                    }
                    else
                    {
                        var own = kept.Contains(parentGradient) ? parentGradient.Clone() : parentGradient;
                        gradients[parent] = own;
                        kept.Add(own);
                    }
                }
                // The node's gradient and whatever its op made that was added into another gradient are spent: their
                // memory goes back to the allocator now rather than when Backward ends, as PyTorch frees an
                // intermediate's gradient, so the pass holds a few layers' gradients at a time instead of all of them.
                // (Disposing drops only this tensor's share of its storage: a reshape that was kept keeps it alive.)
                // Kernels queued on the stream still read them first: the stream runs in order.
                foreach (var parentGradient in parentGradients)
                    if (parentGradient is not null && !kept.Contains(parentGradient)) parentGradient.Dispose();
                if (!kept.Contains(gradient)) gradient.Dispose();
                Spent(node);
            }
        }
    }

    // Depth-first post-order over the nodes that require gradients: parents before children.
    private List<Tensor> TopologicalOrder()
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor Node, int NextParent)>();
        stack.Push((this, 0));
        visited.Add(this);
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            var parents = node._parents;
            if (parents is not null && next < parents.Length)
            {
                stack.Push((node, next + 1));
                var parent = parents[next];
                if (parent.RequiresGrad && visited.Add(parent))
                {
                    parent.ThrowIfDisposed();
                    stack.Push((parent, 0));
                }
                continue;
            }
            order.Add(node);
        }
        return order;
    }
}
