using GpuDeconv.Kernels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

// A training-like step in a TensorScope: after warm-up it takes every block from the allocator's cache, and when it
// ends every byte it used is handed back.
[Collection(nameof(AllocatorStatistics))]
public sealed class MemoryTests
{
    [Theory, MemberData(nameof(Accelerators.Names), MemberType = typeof(Accelerators))]
    public void ATrainingStepAllocatesNoDeviceMemoryAfterWarmUpAndReturnsEveryByte(string name)
    {
        var acc = Accelerators.Get(name);
        var allocator = DeviceAllocator.For(acc);
        long baseline = allocator.Statistics.BytesInUse;
        using (var parameters = new TensorScope())
        {
            var w = Tensor.TruncatedNormal(acc, [3, 3, 2, 4], 0.1f, seed: 1, requiresGrad: true);
            var b = Tensor.Fill(acc, [4], 0.1f, requiresGrad: true);
            var dense = Tensor.TruncatedNormal(acc, [16, 3], 0.1f, seed: 2, requiresGrad: true);
            var images = Tensor.Uniform(acc, [2, 4, 4, 2], -1f, 1f, seed: 3);
            var labels = Tensor.FromArray(acc, [0, 2], [2]);
            float previous = float.NaN;

            float Step()
            {
                using var step = new TensorScope();
                w.ZeroGrad();
                b.ZeroGrad();
                dense.ZeroGrad();
                var hidden = Functional.Relu(Functional.Conv2d(images, w, bias: b));
                var (pooled, _) = Functional.MaxPoolWithArgmax(hidden, 2, 2);
                var logits = Functional.MatMul(pooled.Reshape([2, 16]), dense);
                var loss = Functional.Add(Functional.SoftmaxCrossEntropy(logits, labels), Functional.Scale(Functional.L2Loss(dense), 1e-3f));
                loss.Backward();
                using (Autograd.NoGrad())
                {
                    foreach (var p in new[] { w, b, dense }) Elementwise.AddScaled(p.Stream, p.Grad!.View, -0.5f, p.View);
                }
                return loss.ToArray()[0];
            }

            Step();
            Step();
            long allocations = allocator.Statistics.DeviceAllocations;
            long inUse = allocator.Statistics.BytesInUse;
            for (int i = 0; i < 5; i++)
            {
                float loss = Step();
                Assert.True(float.IsNaN(previous) || loss < previous + 1e-6f, $"step {i}: loss {loss} after {previous}");
                previous = loss;
            }
            var after = allocator.Statistics;
            Assert.Equal(allocations, after.DeviceAllocations);
            // Between steps only the parameters, their gradients and the data are live.
            Assert.Equal(inUse, after.BytesInUse);
            foreach (var p in new[] { w, b, dense }) Assert.NotNull(p.Grad);
        }
        // The parameters' scope disposed them, and with them their gradients.
        Assert.Equal(baseline, allocator.Statistics.BytesInUse);
    }

    [Theory, MemberData(nameof(Accelerators.Names), MemberType = typeof(Accelerators))]
    public void ResetPeakStartsANewPeakAtTheBytesInUse(string name)
    {
        var acc = Accelerators.Get(name);
        var allocator = DeviceAllocator.For(acc);
        using var scope = new TensorScope();
        var kept = Tensor.Zeros(acc, [1024]);
        using (var temporary = new TensorScope()) Tensor.Zeros(acc, [64, 1024]);
        Assert.True(allocator.Statistics.PeakBytesInUse >= allocator.Statistics.BytesInUse + 64 * 1024 * 4);

        allocator.ResetPeak();
        Assert.Equal(allocator.Statistics.BytesInUse, allocator.Statistics.PeakBytesInUse);
        long before = allocator.Statistics.BytesInUse;
        using (var temporary = new TensorScope()) Tensor.Zeros(acc, [2, 1024]);
        Assert.Equal(before + 2 * 1024 * 4, allocator.Statistics.PeakBytesInUse);
        Assert.Equal(before, allocator.Statistics.BytesInUse);
        GC.KeepAlive(kept);
    }

    [Theory, MemberData(nameof(Accelerators.Names), MemberType = typeof(Accelerators))]
    public void BackwardHandsEachSpentGradientBackAtOnce(string name)
    {
        // A chain of 8 ops on 64 KiB tensors: the forward keeps all 8 outputs (the caller's scope owns them), but the
        // backward needs only the gradient in flight and the next one, as in PyTorch, not all 8 at once.
        var acc = Accelerators.Get(name);
        var allocator = DeviceAllocator.For(acc);
        const long Bytes = 16 * 1024 * 4;
        using var scope = new TensorScope();
        var x = Tensor.Uniform(acc, [16, 1024], -1f, 1f, seed: 5, requiresGrad: true);
        var h = x;
        for (int i = 0; i < 8; i++) h = Functional.Scale(Functional.Relu(h), 0.5f + i);
        var loss = Functional.ReduceSum(h);
        allocator.ResetPeak();
        long before = allocator.Statistics.BytesInUse;
        loss.Backward();
        long backwardPeak = allocator.Statistics.PeakBytesInUse - before;
        // x's gradient (kept) + the gradient in flight + the one being made, and one small block for the seed.
        Assert.True(backwardPeak <= 3 * Bytes + 512, $"the backward pass held {backwardPeak} bytes at its peak; at most {3 * Bytes + 512} expected");
        Assert.Equal(before + Bytes, allocator.Statistics.BytesInUse);   // only x's gradient remains
        Assert.NotNull(x.Grad);
    }
}
