// A model written as user code would be: outside the GpuDeconv.Layers namespace, importing both Kernels and
// Layers, so the Conv2d alias below is needed (and this file checks that the combination compiles).
using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using Conv2d = GpuDeconv.Layers.Conv2d;

namespace TutorialModels;

/// <summary>conv 3x3 (1 -> 4) -> relu -> argmax pool 2 -> linear (4*4*4 -> 2), for 8x8x1 images.</summary>
public sealed class TinyCnn : Module
{
    public TinyCnn(Accelerator accelerator, ulong seed)
    {
        Conv1 = Register("conv1", new Conv2d(accelerator, 1, 4, kernelSize: 3, seed, padding: Padding.Same, stddev: 0.1f, biasValue: 0.01f));
        Fc1 = Register("fc1", new Linear(accelerator, 4 * 4 * 4, 2, seed + 1, stddev: 0.1f));
    }

    public Conv2d Conv1 { get; }

    public Linear Fc1 { get; }

    public override Tensor Forward(Tensor images)
    {
        var h = Functional.Relu(Conv1.Forward(images));
        var (pooled, _) = Functional.MaxPoolWithArgmax(h, size: 2, stride: 2, padding: Padding.Same);
        return Fc1.Forward(pooled.Reshape([pooled.Shape[0], 4 * 4 * 4]));
    }
}
