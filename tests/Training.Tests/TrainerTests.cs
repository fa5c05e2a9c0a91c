using GpuDeconv.Layers;
using GpuDeconv.Training.Proto;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class TrainerTests
{
    /// <summary>Tiny CIFAR-10 binary files (label = record % 10, pixels from <see cref="DataFiles.CifarPixel"/>) read back as the loader does.</summary>
    private static (Dataset Train, Dataset Test) CifarFiles(TempDirectory temp, int train, int test)
    {
        File.WriteAllBytes(temp["data_batch_1.bin"], DataFiles.CifarRecords(train, r => r % 10));
        File.WriteAllBytes(temp["test_batch.bin"], DataFiles.CifarRecords(test, r => (r + 3) % 10, (r, c, y, x) => (byte)(r * 11 + c * 40 + y * 5 + x * 3)));
        return (Cifar10.ReadBatchFile(temp["data_batch_1.bin"]), Cifar10.ReadBatchFile(temp["test_batch.bin"]));
    }

    /// <summary>Tiny MNIST IDX files (28x28) in the standard names, loaded with <see cref="Mnist.Load"/>.</summary>
    private static (Dataset Train, Dataset Test) MnistFiles(TempDirectory temp, int train, int test)
    {
        byte[] Labels(int n) => [.. Enumerable.Range(0, n).Select(i => (byte)(i % 10))];
        File.WriteAllBytes(temp["train-images-idx3-ubyte"], DataFiles.IdxImages(train, 28, 28, (i, p) => (byte)((p / 28 + i % 10 * 3) % 28 < 4 ? 255 : 0)));
        File.WriteAllBytes(temp["train-labels-idx1-ubyte"], DataFiles.IdxLabels(Labels(train)));
        File.WriteAllBytes(temp["t10k-images-idx3-ubyte"], DataFiles.IdxImages(test, 28, 28, (i, p) => (byte)((p % 28 + i) % 7 * 30)));
        File.WriteAllBytes(temp["t10k-labels-idx1-ubyte"], DataFiles.IdxLabels(Labels(test)));
        return (Mnist.Load(temp.Path, DatasetSplit.Train), Mnist.Load(temp.Path, DatasetSplit.Test));
    }

    private static List<Event> Events(string logdir) =>
        [.. Directory.GetFiles(logdir, "events.out.tfevents.*").Order(StringComparer.Ordinal).SelectMany(f => EventFileReader.Read(f).Events)];

    private static List<(long Step, Summary.Types.Value Value)> Values(string logdir) =>
        [.. Events(logdir).Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Select(v => (e.Step, v)))];

    [Theory]
    [MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void CifarNetRunsEndToEndAndLogsTheDeconvImages(string name)
    {
        var accelerator = TestAccelerators.Get(name);
        using var temp = new TempDirectory();
        var (train, test) = CifarFiles(temp, train: 12, test: 5);
        string logdir = temp["runs/cifar"];
        // The tutorials' panel sizes (ImageScale 1); PanelsAreEnlargedByTheImageScaleWithTheirTagsUnchanged checks the default.
        var options = new TrainerOptions(logdir) { DatasetName = "cifar10", Steps = 4, BatchSize = 4, LogEvery = 2, ImageEvery = 2, CheckpointEvery = 2, EvalBatchSize = 3, LoaderThreads = 1, ImageScale = 1 };
        var reports = new List<TrainingProgress>();
        TrainingResult result;
        using (var trainer = new Trainer(accelerator, options, train, test))
            result = trainer.Run(new SynchronousProgress<TrainingProgress>(reports.Add), TestContext.Current.CancellationToken);

        Assert.Equal(4, result.Step);
        Assert.False(result.Cancelled);
        Assert.True(float.IsFinite(result.Loss));
        Assert.Equal([2L, 4L], reports.Select(r => r.Step));
        // 5 test images: accuracy is a multiple of 1/5.
        Assert.Contains(result.TestAccuracy, new[] { 0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f });

        var values = Values(logdir);
        Assert.Equal([2L, 4L], values.Where(v => v.Value.Tag == "loss").Select(v => v.Step));
        Assert.Equal([2L, 4L], values.Where(v => v.Value.Tag == "accuracy").Select(v => v.Step));
        Assert.Equal(result.TestAccuracy, Assert.Single(values, v => v.Value.Tag == "test/accuracy").Value.SimpleValue);
        // The loss and accuracy charts beside the logs (TrainingChartsTests checks what they show).
        Assert.Equal([Path.Combine(logdir, TrainingCharts.LossFile), Path.Combine(logdir, TrainingCharts.AccuracyFile)], result.Charts!.Files);
        var images = values.Where(v => v.Value.Tag.StartsWith("source/cifar", StringComparison.Ordinal)).ToList();
        // Before training, at step 2 and at the end: the first three test images each time.
        Assert.Equal([0L, 0L, 0L, 2L, 2L, 2L, 4L, 4L, 4L], images.Select(v => v.Step));
        Assert.Equal(["source/cifar/image/0", "source/cifar/image/1", "source/cifar/image/2"], images.Take(3).Select(v => v.Value.Tag));
        foreach (var (_, value) in images)
        {
            Assert.Equal((24, 72, 3), (value.Image.Height, value.Image.Width, value.Image.Colorspace));
            var png = PngDecoder.Decode(value.Image.EncodedImageString.ToByteArray());
            Assert.Equal((24, 72), (png.Height, png.Width));
        }

        // Zeiler and Fergus's top 9 of the default maps 0..3, once at the end: 5 test images give 5 cells of
        // [image | projection] (24x48) in 3 columns and 2 rows, 1 pixel between and around them.
        var top9 = values.Where(v => v.Value.Tag.StartsWith("top9/", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [.. new[] { 1, 2 }.SelectMany(layer => Enumerable.Range(0, 4).Select(map => $"top9/layer{layer}/map{map}"))],
            top9.Select(v => v.Value.Tag));
        foreach (var (step, value) in top9)
        {
            Assert.Equal(4L, step);
            Assert.Equal((2 * 25 + 1, 3 * 49 + 1, 3), (value.Image.Height, value.Image.Width, value.Image.Colorspace));
            var png = PngDecoder.Decode(File.ReadAllBytes(Path.Combine(logdir, value.Tag.Replace('/', '-') + ".png")));
            Assert.Equal((51, 148), (png.Height, png.Width));
        }

        var checkpoints = new CheckpointDirectory(Path.Combine(logdir, "checkpoints")).List();
        Assert.Equal([2L, 4L], checkpoints.Select(c => c.Step));
        var last = Checkpoint.Load(checkpoints[^1].Path);
        Assert.Equal("CifarGap", last.Settings["model"]);
        Assert.Equal("32,32,3", last.Settings["image_shape"]);
        Assert.Contains("conv3/weight", last.Parameters.Keys);
        Assert.Equal(4f, ((HostTensor<float>)last.OptimizerState["adam/step"]).Data[0]);
    }

    [Theory]
    [MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void LeNetRunsEndToEndAndLogsHistogramsAndKernels(string name)
    {
        var accelerator = TestAccelerators.Get(name);
        using var temp = new TempDirectory();
        var (train, test) = MnistFiles(temp, train: 20, test: 7);
        string logdir = temp["runs/lenet"];
        var options = new TrainerOptions(logdir) { Model = "lenet5", Activation = Activation.Sigmoid, Epochs = 2, BatchSize = 8, LogEvery = 1, ImageEvery = 100, LoaderThreads = 1, ImageScale = 1 };
        TrainingResult result;
        using (var trainer = new Trainer(accelerator, options, train, test))
        {
            Assert.Equal(4, trainer.TotalSteps);    // 2 full batches of 8 per epoch, the partial one dropped
            result = trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
        }
        Assert.Equal(4, result.Step);
        var values = Values(logdir);
        Assert.Equal([1L, 2L, 3L, 4L], values.Where(v => v.Value.Tag == "loss").Select(v => v.Step));
        string[] parameters = ["conv1/weight", "conv1/bias", "conv2/weight", "conv2/bias", "fc1/weight", "fc1/bias", "fc2/weight", "fc2/bias", "fc3/weight", "fc3/bias"];
        foreach (string tag in parameters)
        {
            var histograms = values.Where(v => v.Value.Tag == tag).ToList();
            Assert.Equal([0L, 4L], histograms.Select(h => h.Step));
            Assert.NotNull(histograms[0].Value.Histo);
        }
        // fc1/weight has 400 x 120 values.
        Assert.Equal(48_000, values.First(v => v.Value.Tag == "fc1/weight").Value.Histo.Num);
        var kernels = values.Last(v => v.Value.Tag == "conv1/kernels").Value.Image;
        Assert.Equal((7, 37), (kernels.Height, kernels.Width));           // 6 cells of 5x5 in one row, 1-pixel padding around each
        var conv2 = values.Last(v => v.Value.Tag == "conv2/kernels").Value.Image;
        Assert.Equal((16 * 6 + 1, 6 * 6 + 1), (conv2.Height, conv2.Width));   // a row per output channel, a column per input
        Assert.Equal((400, 120), (values.Last(v => v.Value.Tag == "fc1/weights").Value.Image.Height, values.Last(v => v.Value.Tag == "fc1/weights").Value.Image.Width));
        Assert.Contains(values, v => v.Value.Tag == "conv1/features");
        Assert.Contains(values, v => v.Value.Tag == "conv2/features");
    }

    [Fact]
    public void ResumingGivesTheSameParametersAsAnUninterruptedRun()
    {
        var cpu = TestAccelerators.Cpu;
        using var temp = new TempDirectory();
        var (train, test) = CifarFiles(temp, train: 10, test: 3);
        // Distortions and shuffles both depend on (seed, epoch, index): 10 examples in batches of 4 is 2 steps an epoch,
        // so the resumed half starts in a new epoch and mid-epoch.
        TrainerOptions Options(string dir, long steps, bool resume) => new(temp[dir])
        {
            Steps = steps, BatchSize = 4, Distort = true, Seed = 42, Resume = resume, LogEvery = 1, ImageEvery = 100, LoaderThreads = 2,
            // The rate moves every step: the resumed steps must get the rates the uninterrupted run gave them.
            LearningRateSchedule = LearningRateSchedule.Cosine, WarmupSteps = 2,
        };

        IReadOnlyDictionary<string, HostArray> whole;
        using (var trainer = new Trainer(cpu, Options("whole", 5, resume: false), train, test))
        {
            trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
            whole = trainer.Model.ExportParameters();
        }
        using (var trainer = new Trainer(cpu, Options("parts", 3, resume: true), train, test)) trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
        IReadOnlyDictionary<string, HostArray> resumed;
        using (var trainer = new Trainer(cpu, Options("parts", 5, resume: true), train, test))
        {
            Assert.Equal(3, trainer.Step);
            var result = trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal((5L, 3L), (result.Step, result.ResumedFrom));
            resumed = trainer.Model.ExportParameters();
        }
        foreach (var (path, value) in whole)
            Assert.True(value.Data.AsSpan().SequenceEqual(resumed[path].Data), $"{path} differs after resuming");
        // The resumed run continues the step axis: its loss scalars start at step 4.
        Assert.Equal([1L, 2L, 3L, 4L, 5L], Values(temp["parts"]).Where(v => v.Value.Tag == "loss").Select(v => v.Step));
        Assert.Equal(Values(temp["whole"]).Where(v => v.Value.Tag == "learning_rate").Select(v => (v.Step, v.Value.SimpleValue)),
                     Values(temp["parts"]).Where(v => v.Value.Tag == "learning_rate").Select(v => (v.Step, v.Value.SimpleValue)));
    }

    [Fact]
    public void TheLearningRateWarmsUpThenFollowsItsSchedule()
    {
        using var temp = new TempDirectory();
        var (train, test) = CifarFiles(temp, train: 8, test: 2);
        TrainerOptions Options(LearningRateSchedule? schedule, int? warmup) =>
            new(temp["run"]) { Steps = 11, BatchSize = 4, LearningRate = 0.01f, LearningRateSchedule = schedule, WarmupSteps = warmup };
        using (var cosine = new Trainer(TestAccelerators.Cpu, Options(LearningRateSchedule.Cosine, 4), train, test))
        {
            // Steps 0..3 climb 1/4, 2/4, 3/4, 4/4 of the rate; then half a cosine over the 7 steps left: 1 at step 4, 1/2
            // halfway (step 7.5), 0 after the last.
            Assert.Equal([0.0025f, 0.005f, 0.0075f, 0.01f], Enumerable.Range(0, 4).Select(s => cosine.LearningRateAt(s)));
            Assert.Equal(0.01f, cosine.LearningRateAt(4));
            Assert.Equal(0.01 * (1 + Math.Cos(Math.PI * 3 / 7)) / 2, cosine.LearningRateAt(7), 6);
            Assert.True(cosine.LearningRateAt(10) < 0.01f * 0.06f);
            Assert.Equal(0f, cosine.LearningRateAt(11));
            Assert.Equal("Cosine", cosine.Settings()["learning_rate_schedule"]);
            Assert.Equal("4", cosine.Settings()["warmup_steps"]);
        }
        using var constant = new Trainer(TestAccelerators.Cpu, Options(LearningRateSchedule.Constant, 0), train, test);
        Assert.All(Enumerable.Range(0, 11), s => Assert.Equal(0.01f, constant.LearningRateAt(s)));
        Assert.Throws<ArgumentException>(() => new Trainer(TestAccelerators.Cpu, Options(null, -1), train, test));
    }

    [Fact]
    public void CancellingStopsWithACheckpointAndFlushedLogs()
    {
        using var temp = new TempDirectory();
        var (train, test) = CifarFiles(temp, train: 8, test: 3);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var options = new TrainerOptions(temp["run"]) { Steps = 1000, BatchSize = 2, LogEvery = 1, LoaderThreads = 1 };
        TrainingResult result;
        using (var trainer = new Trainer(TestAccelerators.Cpu, options, train, test))
            result = trainer.Run(new SynchronousProgress<TrainingProgress>(p => { if (p.Step == 2) cancel.Cancel(); }), cancel.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(2, result.Step);
        Assert.Equal(2, new CheckpointDirectory(temp["run/checkpoints"]).Latest()!.Step);
        var values = Values(temp["run"]);
        Assert.Equal([1L, 2L], values.Where(v => v.Value.Tag == "loss").Select(v => v.Step));
        Assert.Contains(values, v => v.Value.Tag == "source/cifar/image/0" && v.Step == 2);
    }

    [Fact]
    public void TensorBoardLoadsEveryTagThroughItsHttpApi()
    {
        // The issue's check against the real TensorBoard: wherever its Python package is installed, a finished run of
        // each model is loaded by `tensorboard --logdir` and every scalar, image and histogram tag the event files hold is
        // read back through the HTTP data API (tools/tensorboard_check.py; docs/training.md has the command).
        var python = TensorBoardPython.Find(out string reason);
        if (python is null) Assert.Skip(reason);
        using var temp = new TempDirectory();
        var (cifarTrain, cifarTest) = CifarFiles(temp, train: 8, test: 3);
        var (mnistTrain, mnistTest) = MnistFiles(temp, train: 16, test: 4);
        var runs = new[]
        {
            (Options: new TrainerOptions(temp["runs/cifar"]) { DatasetName = "cifar10", Steps = 2, BatchSize = 4, LogEvery = 1, LoaderThreads = 1 }, Data: (cifarTrain, cifarTest)),
            (Options: new TrainerOptions(temp["runs/lenet"]) { Model = "lenet5", Steps = 2, BatchSize = 8, LogEvery = 1, LoaderThreads = 1 }, Data: (mnistTrain, mnistTest)),
        };
        foreach (var (options, (train, test)) in runs)
        {
            using var trainer = new Trainer(TestAccelerators.Cpu, options, train, test);
            trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
        }
        var values = runs.SelectMany(r => Values(r.Options.LogDirectory)).Select(v => v.Value).ToList();
        string[] Tags(Summary.Types.Value.ValueOneofCase kind) => [.. values.Where(v => v.ValueCase == kind).Select(v => v.Tag).Distinct()];
        var expected = new Dictionary<string, string[]>
        {
            ["scalars"] = Tags(Summary.Types.Value.ValueOneofCase.SimpleValue),
            ["images"] = Tags(Summary.Types.Value.ValueOneofCase.Image),
            ["histograms"] = Tags(Summary.Types.Value.ValueOneofCase.Histo),
        };
        Assert.All(expected.Values, tags => Assert.NotEmpty(tags));
        File.WriteAllText(temp["expect.json"], System.Text.Json.JsonSerializer.Serialize(expected));

        var (exitCode, output) = TensorBoardPython.RunCheck(python, temp["runs"], temp["expect.json"]);
        Assert.True(exitCode == 0, $"tools/tensorboard_check.py exited {exitCode}: {output}");
        foreach (string tag in expected.Values.SelectMany(t => t)) Assert.Contains($"\"{tag}\"", output, StringComparison.Ordinal);
    }

    [Fact]
    public void PanelsAreEnlargedByTheImageScaleWithTheirTagsUnchanged()
    {
        using var temp = new TempDirectory();
        var (cifarTrain, cifarTest) = CifarFiles(temp, train: 4, test: 5);
        var (mnistTrain, mnistTest) = MnistFiles(temp, train: 8, test: 3);
        // Every image panel of a one-step run, by tag: the same seed gives the same weights, so runs differ only in the scale.
        Dictionary<string, DecodedPng> Panels(string model, int? scale)
        {
            string logdir = temp[$"runs/{model}-{scale?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "auto"}"];
            var options = new TrainerOptions(logdir) { Model = model, Steps = 1, BatchSize = 4, LogEvery = 1, LoaderThreads = 1, ImageScale = scale };
            var (train, test) = model == "lenet5" ? (mnistTrain, mnistTest) : (cifarTrain, cifarTest);
            using (var trainer = new Trainer(TestAccelerators.Cpu, options, train, test))
                trainer.Run(cancellationToken: TestContext.Current.CancellationToken);
            var panels = Values(logdir).Where(v => v.Value.Image is not null && v.Step == 1).ToDictionary(v => v.Value.Tag, v => PngDecoder.Decode(v.Value.Image.EncodedImageString.ToByteArray()));
            // The PNG files beside the logs are the logged panels.
            foreach (var (tag, panel) in panels.Where(p => p.Key.StartsWith("top9/", StringComparison.Ordinal) || p.Key.StartsWith("fc2/class/", StringComparison.Ordinal)))
                Assert.Equal(panel.Pixels, PngDecoder.Decode(File.ReadAllBytes(Path.Combine(logdir, tag.Replace('/', '-') + ".png"))).Pixels);
            return panels;
        }

        foreach (string model in new[] { "cifar-gap", "lenet5" })
        {
            var small = Panels(model, 1);
            var auto = Panels(model, null);
            var three = Panels(model, 3);
            Assert.Equal(small.Keys.Order(StringComparer.Ordinal), auto.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(small.Keys.Order(StringComparer.Ordinal), three.Keys.Order(StringComparer.Ordinal));
            foreach (var (tag, panel) in small)
            {
                int factor = TrainingSummaries.AutoScale(panel.Height, panel.Width);
                Assert.True(Math.Min(panel.Height, panel.Width) * factor >= TrainingSummaries.PanelShortSide || Math.Max(panel.Height, panel.Width) * (factor + 1) > TrainingSummaries.PanelLongSide,
                    $"{tag}: {panel.Height}x{panel.Width} enlarged {factor} times is still small");
                var original = new ByteImage(panel.Pixels, panel.Height, panel.Width, panel.Channels);
                Assert.Equal(original.Upscale(factor).Pixels, auto[tag].Pixels);
                Assert.Equal(original.Upscale(3).Pixels, three[tag].Pixels);
            }
            if (model == "cifar-gap")
            {
                // The tutorial's 24x72 [input | layer 1 | layer 2] 9 times; 5 test images' top-9 grid (51x148) 4 times.
                Assert.Equal((216, 648), (auto["source/cifar/image/0"].Height, auto["source/cifar/image/0"].Width));
                Assert.Equal((204, 592), (auto["top9/layer1/map0"].Height, auto["top9/layer1/map0"].Width));
            }
            else
            {
                // LeNet-5's 5x5 kernels in a 7x37 strip 29 times; fc1's 400x120 weights twice.
                Assert.Equal((203, 1073), (auto["conv1/kernels"].Height, auto["conv1/kernels"].Width));
                Assert.Equal((800, 240), (auto["fc1/weights"].Height, auto["fc1/weights"].Width));
            }
        }
    }

    [Theory]
    [InlineData(24, 72, 9)]
    [InlineData(7, 37, 29)]
    [InlineData(400, 120, 2)]
    [InlineData(84, 10, 20)]
    [InlineData(1, 1000, 2)]      // the long side stops it at 2048
    [InlineData(300, 3000, 1)]
    public void AutoScaleReachesTheShortSideWithinTheLongSide(int height, int width, int factor)
    {
        Assert.Equal(factor, TrainingSummaries.AutoScale(height, width));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(33)]
    public void ImageScaleIsAWholeFactorUpTo32(int scale)
    {
        Assert.Equal($"--image-scale must be auto or a whole factor from 1 to 32, not {scale}.", Assert.Single(new TrainerOptions("run") { ImageScale = scale }.Problems()));
        Assert.Empty(new TrainerOptions("run") { ImageScale = 32 }.Problems());
    }

    [Fact]
    public void EvaluateCountsEveryTestExample()
    {
        using var temp = new TempDirectory();
        var (train, test) = CifarFiles(temp, train: 4, test: 7);
        using var trainer = new Trainer(TestAccelerators.Cpu, new TrainerOptions(temp["run"]) { Steps = 1, BatchSize = 4, EvalBatchSize = 3 }, train, test);
        // All logits of the fresh network are nearly equal; whatever it predicts, the accuracy counts sevenths (3 + 3 + 1 examples).
        float accuracy = trainer.Evaluate();
        Assert.Equal(Math.Round(accuracy * 7), accuracy * 7, 4);
    }

    [Theory]
    [InlineData(new[] { 0, 64 }, "--top9-maps 64 is out of range: layers 1 and 2 have 64 feature maps (0..63)")]
    [InlineData(new[] { -1 }, "--top9-maps -1 is out of range")]
    [InlineData(new[] { 3, 1, 3 }, "--top9-maps 3,1,3 lists a map twice")]
    public void Top9MapsMustBeDistinctMapsOfTheNetwork(int[] maps, string message)
    {
        // The trainer and the command line check options in one place (TrainerOptions.Problems), in the command line's words.
        using var temp = new TempDirectory();
        var (train, test) = CifarFiles(temp, train: 4, test: 2);
        var e = Assert.Throws<ArgumentException>(() => new Trainer(TestAccelerators.Cpu, new TrainerOptions(temp["run"]) { Top9Maps = maps }, train, test));
        Assert.Contains(message, e.Message);
        Assert.Contains(message, Assert.Single(new TrainerOptions(temp["run"]) { Top9Maps = maps }.Problems()));
    }

    [Fact]
    public void AModelIsFoundByNameAndDescribesItsOwnDefaultsAndInputs()
    {
        Assert.Equal(["cifar-gap", "lenet5"], TrainerModels.All.Select(m => m.Name));
        var lenet = TrainerModels.Get("lenet5");
        Assert.Same(lenet, TrainerModels.Find("LeNet5"));                        // the name checkpoints carry
        Assert.Equal(new TrainingDefaults(1e-4f, LearningRateSchedule.Constant, 0, 1), TrainerModels.Get("cifar-gap").Defaults("cifar10"));
        var e = Assert.Throws<ArgumentException>(() => lenet.Inputs(new Layers.Shape(24, 24, 3), distort: false));
        Assert.Contains("LeNet-5 takes gray 28x28 images", e.Message);
        var unknown = Assert.Single(new TrainerOptions("run") { Model = "resnet" }.Problems());
        Assert.Equal("--model 'resnet' is not a model here; the models are cifar-gap, lenet5.", unknown);
    }

    [Fact]
    public void LeNetRejectsColourImagesWithTheShapes()
    {
        using var temp = new TempDirectory();
        var (train, test) = CifarFiles(temp, train: 4, test: 2);
        var e = Assert.Throws<ArgumentException>(() => new Trainer(TestAccelerators.Cpu, new TrainerOptions(temp["run"]) { Model = "lenet5" }, train, test));
        Assert.Contains("[32, 32, 3]", e.Message);
        Assert.Contains("[28, 28, 1]", e.Message);
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool, too late for assertions).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
