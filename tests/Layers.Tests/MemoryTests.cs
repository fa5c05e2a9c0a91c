using GpuDeconv.Kernels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

// A training-like step in a TensorScope: after warm-up it takes every block from the allocator's cache, and when it
// ends every byte it used is handed back.
[Collection(nameof(AllocatorStatistics))]
public sealed class MemoryTests
{
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ATrainingStepAllocatesNoDeviceMemoryAfterWarmUpAndReturnsEveryByte(string name)
    {
        var acc = TestAccelerators.Get(name);
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

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void Conv2dReluMaxPoolKeepsOnlyThePooledValuesAndTheSwitches(string name)
    {
        var acc = TestAccelerators.Get(name);
        var allocator = DeviceAllocator.For(acc);
        using var scope = new TensorScope();
        var x = Tensor.Uniform(acc, [4, 16, 16, 3], -1f, 1f, seed: 5, requiresGrad: true);
        var w = Tensor.Uniform(acc, [3, 3, 3, 32], -1f, 1f, seed: 6, requiresGrad: true);
        long before = allocator.Statistics.BytesInUse;
        var (values, argmax) = Functional.Conv2dReluMaxPool(x, w, null, new Conv2dOptions(1, Padding.Same), new PoolOptions(2, 2, Padding.Same));
        long held = allocator.Statistics.BytesInUse - before;
        long start = allocator.Statistics.BytesInUse;
        Tensor.Empty(acc, values.Shape);
        Tensor.Empty(acc, argmax.Shape, DType.Int64);
        // The [4, 16, 16, 32] activations (128 KiB) went back to the allocator once pooled.
        Assert.Equal(allocator.Statistics.BytesInUse - start, held);

        var trace = new ForwardTrace();
        before = allocator.Statistics.BytesInUse;
        trace.Conv2dReluMaxPool(x, w, null, new Conv2dOptions(1, Padding.Same), new PoolOptions(2, 2, Padding.Same));
        // A trace keeps them: the projections' ReLU rules read them.
        Assert.Equal(held + 4 * 16 * 16 * 32 * 4, allocator.Statistics.BytesInUse - before);
        Assert.False(trace.Steps[0].Output.IsDisposed);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void FreeingIntermediatesLowersTheBackwardPeakAndKeepsTheGradientsBitForBit(string name)
    {
        var acc = TestAccelerators.Get(name);
        var allocator = DeviceAllocator.For(acc);
        using var scope = new TensorScope();
        var x = Tensor.Uniform(acc, [8, 64], -1f, 1f, seed: 7);
        var weights = Enumerable.Range(0, 4).Select(i => Tensor.Uniform(acc, [64, 64], -0.2f, 0.2f, seed: (ulong)(10 + i), requiresGrad: true)).ToArray();
        var side = Tensor.Uniform(acc, [8, 64], -1f, 1f, seed: 20);

        // The forward pass's outputs are the graph's (TensorScope.ForIntermediates), except the first layer's
        // activations, which the caller keeps (as it would keep logits for an accuracy), and the loss.
        (long Peak, float[][] Grads, Tensor Held, Tensor[] Released, Tensor Loss) Step(bool free)
        {
            foreach (var w in weights) w.ZeroGrad();
            var released = new List<Tensor>();
            Tensor held, loss;
            using (var intermediates = TensorScope.ForIntermediates())
            {
                var h = x;
                foreach (var w in weights)
                {
                    var product = Functional.MatMul(h, w);
                    h = Functional.Relu(product);
                    released.Add(product);
                    released.Add(h);
                }
                held = intermediates.Keep(released[1]);
                released.RemoveAt(1);
                loss = intermediates.Keep(Functional.ReduceSum(Functional.Multiply(h, side)));
            }
            Assert.All(released, t => Assert.True(t.IsReleasedToGraph));
            allocator.ResetPeak();
            long start = allocator.Statistics.BytesInUse;
            loss.Backward(freeIntermediates: free);
            return (allocator.Statistics.PeakBytesInUse - start, [.. weights.Select(w => w.Grad!.ToArray())], held, [.. released], loss);
        }

        var kept = Step(free: false);
        var freed = Step(free: true);
        for (int i = 0; i < weights.Length; i++) Assert.Equal(kept.Grads[i], freed.Grads[i]);
        Assert.All(kept.Released, t => Assert.False(t.IsDisposed));
        Assert.All(freed.Released, t => Assert.True(t.IsDisposed));
        // What the caller holds stays: the intermediate it kept (readable after Backward), the loss, the leaves,
        // their gradients and the tensors made without autograd.
        Assert.False(freed.Held.IsDisposed);
        Assert.Equal(kept.Held.ToArray(), freed.Held.ToArray());
        Assert.False(freed.Loss.IsDisposed);
        Assert.All(weights, w => Assert.False(w.IsDisposed || w.Grad!.IsDisposed));
        Assert.False(x.IsDisposed || side.IsDisposed);
        // Each layer gives back its activations (and its matmul's output) while the earlier layers' gradients are made.
        Assert.True(freed.Peak < kept.Peak, $"backward peak {freed.Peak} bytes with freeing, {kept.Peak} without");
        var e = Assert.Throws<ObjectDisposedException>(() => freed.Released[0].ToArray());
        Assert.Contains("[8, 64]", e.Message);
    }

    [Fact]
    public void BackwardNeverFreesATensorAnOpReturnedToTheCaller()
    {
        // The case: logits kept for an accuracy are read after a backward pass that frees intermediates.
        var acc = TestAccelerators.Cpu;
        using var scope = new TensorScope();
        var w = Tensor.Uniform(acc, [16, 4], -0.5f, 0.5f, seed: 3, requiresGrad: true);
        var images = Tensor.Uniform(acc, [8, 16], -1f, 1f, seed: 4);
        var labels = Tensor.FromArray(acc, [0, 1, 2, 3, 0, 1, 2, 3], [8]);
        var hidden = Functional.Relu(Functional.MatMul(images, w));
        var logits = Functional.Scale(hidden, 2f);
        float[] before = logits.ToArray();
        var loss = Functional.SoftmaxCrossEntropy(logits, labels);
        loss.Backward(freeIntermediates: true);
        Assert.Equal(before, logits.ToArray());
        Assert.Equal(8 * 4, hidden.ToArray().Length);
        Assert.NotNull(w.Grad);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ResetPeakStartsANewPeakAtTheBytesInUse(string name)
    {
        var acc = TestAccelerators.Get(name);
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

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardHandsEachSpentGradientBackAtOnce(string name)
    {
        // A chain of 8 ops on 64 KiB tensors: the forward keeps all 8 outputs (the caller's scope owns them), but the
        // backward needs only the gradient in flight and the next one, as in PyTorch, not all 8 at once.
        var acc = TestAccelerators.Get(name);
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
