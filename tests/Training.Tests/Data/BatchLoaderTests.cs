using Xunit;

namespace GpuDeconv.Training.Tests;

public class BatchLoaderTests
{
    private static readonly Layers.Shape Pixel = new(1, 1, 1);

    /// <summary>n one-pixel images whose value is their index (so a batch's images say which examples it holds), label index % 10.</summary>
    private static Dataset Numbered(int n) =>
        new("numbered", Enumerable.Range(0, n).Select(i => (byte)i).ToArray(), Enumerable.Range(0, n).Select(i => i % 10).ToArray(),
            1, 1, 1, Enumerable.Range(0, 10).Select(i => $"class {i}").ToArray());

    private static List<int[]> ReadIndices(BatchLoader loader, int batches)
    {
        var result = new List<int[]>();
        for (int i = 0; i < batches; i++)
        {
            using var batch = loader.Read(TestContext.Current.CancellationToken) ?? throw new InvalidOperationException("ended early");
            Assert.Equal(batch.Indices.ToArray().Select(v => (float)v), batch.Images.ToArray());
            Assert.Equal(batch.Indices.ToArray().Select(v => v % 10), batch.Labels.ToArray());
            result.Add(batch.Indices.ToArray());
        }
        return result;
    }

    [Fact]
    public void EveryExampleOncePerEpochInANewOrder()
    {
        using var loader = new BatchLoader(Numbered(103), Preprocess.Raw(Pixel), new BatchOptions(10) { Seed = 1 });
        Assert.Equal(11, loader.Schedule.StepsPerEpoch);

        var batches = ReadIndices(loader, 22);

        var first = batches.Take(11).SelectMany(b => b).ToArray();
        var second = batches.Skip(11).SelectMany(b => b).ToArray();
        Assert.Equal(Enumerable.Range(0, 103), first.Order());
        Assert.Equal(Enumerable.Range(0, 103), second.Order());
        Assert.NotEqual(first, second);
        Assert.NotEqual(Enumerable.Range(0, 103), first);
        Assert.Equal(3, batches[10].Length);  // Keep: the last batch holds the 3 left over
    }

    [Fact]
    public void SameSeedSameOrderOtherSeedOtherOrder()
    {
        List<int[]> Run(ulong seed)
        {
            using var loader = new BatchLoader(Numbered(50), Preprocess.Raw(Pixel), new BatchOptions(8) { Seed = seed, EndStep = 21 });
            return ReadIndices(loader, 21);
        }

        Assert.Equal(Run(3), Run(3));
        Assert.NotEqual(Run(3), Run(4));
    }

    [Fact]
    public void WithoutShuffleTheOrderIsTheDataSetOrder()
    {
        using var loader = new BatchLoader(Numbered(25), Preprocess.Raw(Pixel), new BatchOptions(10) { Shuffle = false });

        var batches = ReadIndices(loader, 4);

        Assert.Equal(Enumerable.Range(0, 25).Concat(Enumerable.Range(0, 10)), batches.SelectMany(b => b));
    }

    [Fact]
    public void DropLeavesOutTheRemainder()
    {
        using var loader = new BatchLoader(Numbered(25), Preprocess.Raw(Pixel), new BatchOptions(10) { LastBatch = PartialBatch.Drop, Seed = 9 });

        var batches = ReadIndices(loader, 4);

        Assert.All(batches, b => Assert.Equal(10, b.Length));
        Assert.Equal(20, batches.Take(2).SelectMany(b => b).Distinct().Count());
        Assert.Equal(20, batches.Skip(2).SelectMany(b => b).Distinct().Count());
    }

    [Fact]
    public void PadWrapFillsTheLastBatchWithTheEpochsFirstExamples()
    {
        using var loader = new BatchLoader(Numbered(25), Preprocess.Raw(Pixel), new BatchOptions(10) { LastBatch = PartialBatch.PadWrap, Seed = 2 });
        var batches = new List<(int[] Indices, int Wrapped)>();
        for (int i = 0; i < 3; i++)
        {
            using var batch = loader.Read(TestContext.Current.CancellationToken)!;
            batches.Add((batch.Indices.ToArray(), batch.WrappedCount));
        }

        Assert.Equal([0, 0, 5], batches.Select(b => b.Wrapped));
        Assert.Equal(Enumerable.Range(0, 25), batches.SelectMany(b => b.Indices).Take(25).Order());
        Assert.Equal(batches[0].Indices[..5], batches[2].Indices[5..]);
    }

    [Fact]
    public void PadWrapCyclesWhenTheDataSetIsSmallerThanABatch()
    {
        using var loader = new BatchLoader(Numbered(3), Preprocess.Raw(Pixel), new BatchOptions(8) { LastBatch = PartialBatch.PadWrap, Shuffle = false });

        using var batch = loader.Read(TestContext.Current.CancellationToken)!;

        Assert.Equal([0, 1, 2, 0, 1, 2, 0, 1], batch.Indices.ToArray());
        Assert.Equal(5, batch.WrappedCount);
        Assert.Equal(new Layers.Shape(8, 1, 1, 1), batch.Shape);
    }

    [Fact]
    public void ResumingAtAStepGivesTheSameBatchesAsRunningThrough()
    {
        List<int[]> full, resumed;
        using (var loader = new BatchLoader(Numbered(40), Preprocess.Raw(Pixel), new BatchOptions(6) { Seed = 5, EndStep = 20 }))
            full = ReadIndices(loader, 20);
        using (var loader = new BatchLoader(Numbered(40), Preprocess.Raw(Pixel), new BatchOptions(6) { Seed = 5, StartStep = 13, EndStep = 20 }))
        {
            resumed = ReadIndices(loader, 7);
            Assert.Null(loader.Read(TestContext.Current.CancellationToken));  // EndStep reached
        }

        Assert.Equal(full.Skip(13), resumed);
    }

    [Fact]
    public void ContentsDoNotDependOnThreadsOrQueueLength()
    {
        var random = new Random(11);
        var pixels = new byte[20 * 3072];
        random.NextBytes(pixels);
        var data = new Dataset("noise", pixels, Enumerable.Range(0, 20).Select(i => i % 10).ToArray(), 32, 32, 3, Cifar10.ClassNames);

        List<(long Step, float[] Images, int[] Labels)> Run(int parallelism, int prefetch)
        {
            var options = new BatchOptions(6) { Seed = 77, Parallelism = parallelism, Prefetch = prefetch, EndStep = 8 };
            using var loader = new BatchLoader(data, Preprocess.CifarTrain, options);
            var result = new List<(long, float[], int[])>();
            while (loader.Read(TestContext.Current.CancellationToken) is { } batch)
                using (batch) result.Add((batch.Step, batch.Images.ToArray(), batch.Labels.ToArray()));
            return result;
        }

        var one = Run(1, 1);
        var many = Run(4, 3);
        Assert.Equal(8, one.Count);
        Assert.Equal(new Layers.Shape(24, 24, 3), Preprocess.CifarTrain.Output);
        for (int i = 0; i < one.Count; i++)
        {
            Assert.Equal(one[i].Step, many[i].Step);
            Assert.Equal(one[i].Labels, many[i].Labels);
            Assert.True(one[i].Images.AsSpan().SequenceEqual(many[i].Images), $"batch {i} differs");
        }
    }

    [Fact]
    public void ProducerExceptionSurfacesAtTheFailedBatch()
    {
        var failing = new Preprocess("failing", Pixel, Pixel, (image, output, _) =>
        {
            if (image[0] == 57) throw new InvalidDataException("example 57 is broken");
            output[0] = image[0];
        });
        using var loader = new BatchLoader(Numbered(100), failing, new BatchOptions(10) { Shuffle = false });

        ReadIndices(loader, 5);
        var e = Assert.Throws<InvalidDataException>(() => loader.Read(TestContext.Current.CancellationToken));

        Assert.Equal("example 57 is broken", e.Message);
        Assert.Throws<InvalidDataException>(() => loader.Read(TestContext.Current.CancellationToken));  // and stays failed
    }

    [Fact]
    public async Task DisposeStopsTheProducer()
    {
        int calls = 0;
        var counting = new Preprocess("counting", Pixel, Pixel, (image, output, _) =>
        {
            Interlocked.Increment(ref calls);
            output[0] = image[0];
        });
        var loader = new BatchLoader(Numbered(30), counting, new BatchOptions(4) { Prefetch = 2 });
        ReadIndices(loader, 3);

        loader.Dispose();
        int afterDispose = Volatile.Read(ref calls);
        await Task.Delay(200, TestContext.Current.CancellationToken);

        Assert.Equal(afterDispose, Volatile.Read(ref calls));
        Assert.InRange(afterDispose, 12, 4 * (3 + 2 + 1));  // 3 read, at most 2 queued and 1 being filled
        Assert.Throws<ObjectDisposedException>(() => loader.Read(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task DisposeReleasesAWaitingReader()
    {
        using var gate = new ManualResetEventSlim();
        var slow = new Preprocess("slow", Pixel, Pixel, (image, output, _) => gate.Wait(TimeSpan.FromSeconds(10)));
        var loader = new BatchLoader(Numbered(4), slow, new BatchOptions(2));
        var reading = loader.ReadAsync(TestContext.Current.CancellationToken).AsTask();

        var disposing = Task.Run(loader.Dispose, TestContext.Current.CancellationToken);
        gate.Set();  // the preprocessing in progress finishes; the producer then sees the stop
        await disposing.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        var outcome = await Record.ExceptionAsync(() => reading.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.True(outcome is null or ObjectDisposedException, $"reader saw {outcome}");
    }

    [Fact]
    public void CancellingTheLoadersTokenEndsReadingWithCancellation()
    {
        using var cancel = new CancellationTokenSource();
        using var loader = new BatchLoader(Numbered(30), Preprocess.Raw(Pixel), new BatchOptions(4), cancel.Token);
        ReadIndices(loader, 1);

        cancel.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            for (int i = 0; i < 10; i++) loader.Read(TestContext.Current.CancellationToken)?.Dispose();
        });
    }

    [Fact]
    public void DisposedBatchesAreReused()
    {
        using var loader = new BatchLoader(Numbered(30), Preprocess.Raw(Pixel), new BatchOptions(4) { Prefetch = 1 });
        var seen = new HashSet<Batch>(ReferenceEqualityComparer.Instance);
        int reused = 0;

        for (int i = 0; i < 10; i++)
        {
            using var batch = loader.Read(TestContext.Current.CancellationToken)!;
            if (!seen.Add(batch)) reused++;
        }

        Assert.True(reused >= 5, $"{reused} of 10 batches reused");
    }

    [Fact]
    public void ImageShapeMustMatchThePreprocessing()
    {
        var e = Assert.Throws<ArgumentException>(() => new BatchLoader(Numbered(5), Preprocess.CifarEval, new BatchOptions(2)));
        Assert.Contains("preprocess cifar-eval takes [32, 32, 3] images, but numbered holds [1, 1, 1]", e.Message);
    }
}
