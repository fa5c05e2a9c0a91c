using GpuDeconv.Compute;
using TutorialModels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

// Reads the allocator's global counters, so it runs alone (see AllocatorStatistics).
[Collection(nameof(AllocatorStatistics))]
public sealed class TrainingTests
{
    // 8x8x1 images of two classes: a bright 3x3 square top-left (class 0) or bottom-right (class 1), on noise.
    private static (Tensor Images, Tensor Labels, int[] LabelValues) Squares(Accelerator acc, int count, int seed)
    {
        var random = new Random(seed);
        float[] images = new float[count * 64];
        int[] labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            labels[n] = n % 2;
            int corner = labels[n] == 0 ? 0 : 5;
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                {
                    bool square = y >= corner && y < corner + 3 && x >= corner && x < corner + 3;
                    images[n * 64 + y * 8 + x] = (square ? 1f : 0f) + 0.3f * random.NextSingle();
                }
        }
        return (Tensor.FromArray(acc, images, [count, 8, 8, 1]), Tensor.FromArray(acc, labels, [count]), labels);
    }

    private static float TrainStep(TinyCnn model, Optimizer optimizer, Tensor images, Tensor labels)
    {
        using var step = new TensorScope();
        optimizer.ZeroGrad();
        var loss = Functional.SoftmaxCrossEntropy(model.Forward(images), labels);
        loss.Backward();
        optimizer.Step();
        return loss.ToArray()[0];
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void TrainingATinyCnnOnSquaresDrivesItsLossDown(string name)
    {
        var acc = TestAccelerators.Get(name);
        TestAccelerators.SkipScaleTestOnDebugDevice(name);
        using var scope = new TensorScope();
        var (images, labels, labelValues) = Squares(acc, 16, seed: 3);
        var model = new TinyCnn(acc, seed: 11);
        using var adam = new AdamOptimizer(model, learningRate: 0.01f);
        var losses = new List<float>();
        for (int i = 0; i < 30; i++) losses.Add(TrainStep(model, adam, images, labels));

        using var noGrad = Autograd.NoGrad();
        long[] predicted = Functional.Argmax(model.Forward(images), 1).ToArray<long>();
        double accuracy = predicted.Zip(labelValues, (p, l) => p == l ? 1.0 : 0.0).Average();
        string trace = string.Join(", ", losses.Where((_, i) => i % 5 == 0 || i == losses.Count - 1).Select(l => l.ToString("F3")));
        Assert.True(losses[^1] < 0.5f * losses[0], $"loss {losses[0]} -> {losses[^1]}, not halved: {trace}");
        Assert.True(accuracy >= 0.9, $"accuracy {accuracy}; losses {trace}");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ASteadyTrainingStepAllocatesNoDeviceMemory(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var (images, labels, _) = Squares(acc, 4, seed: 4);
        var model = new TinyCnn(acc, seed: 12);
        using var sgd = new SgdOptimizer(model, 0.05f, momentum: 0.9f);
        using var adam = new AdamOptimizer(model, 0.01f);
        var allocator = DeviceAllocator.For(acc);
        foreach (var optimizer in new Optimizer[] { sgd, adam })
        {
            TrainStep(model, optimizer, images, labels);   // warm-up: the step's temporaries enter the cache
            TrainStep(model, optimizer, images, labels);
            var before = allocator.Statistics;
            for (int i = 0; i < 3; i++) TrainStep(model, optimizer, images, labels);
            var after = allocator.Statistics;
            Assert.True(before.DeviceAllocations == after.DeviceAllocations,
                $"{optimizer.GetType().Name}: {after.DeviceAllocations - before.DeviceAllocations} device allocations in 3 steady steps");
            Assert.Equal(before.BytesInUse, after.BytesInUse);   // nothing leaks from step to step
        }
    }
}
