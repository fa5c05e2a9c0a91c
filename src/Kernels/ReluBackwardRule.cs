namespace GpuDeconv.Layers;

/// <summary>How a backward signal crosses a ReLU (docs/reference/op-semantics.md section 4): f is the forward input, R the signal from above.</summary>
public enum ReluBackwardRule
{
    /// <summary>The true gradient (saliency, Simonyan et al.): R * [f &gt; 0].</summary>
    Gradient,

    /// <summary>Zeiler and Fergus's deconvnet: the signal is rectified, R * [R &gt; 0], whatever f was.</summary>
    Deconvnet,

    /// <summary>Guided backpropagation (Springenberg et al.): R * [f &gt; 0] * [R &gt; 0].</summary>
    Guided,
}
