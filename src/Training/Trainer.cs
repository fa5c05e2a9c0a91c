using System.Diagnostics;
using System.Globalization;
using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>Which network a <see cref="Trainer"/> builds.</summary>
public enum ModelKind
{
    /// <summary>The deconv tutorial's <see cref="CifarGapNet"/>.</summary>
    CifarGap,

    /// <summary>The LeNet-5 tutorial's <see cref="LeNet5"/>.</summary>
    LeNet5,
}

/// <summary>Which optimizer a <see cref="Trainer"/> uses.</summary>
public enum OptimizerKind
{
    /// <summary>Adam with TF's defaults (both tutorials).</summary>
    Adam,

    /// <summary>Plain gradient descent (TF's GradientDescentOptimizer).</summary>
    Sgd,
}

/// <summary>How the learning rate moves over a <see cref="Trainer"/>'s run (after any warm-up).</summary>
public enum LearningRateSchedule
{
    /// <summary>The rate throughout (the tutorials).</summary>
    Constant,

    /// <summary>Half a cosine from the rate down to 0 at the end of the run.</summary>
    Cosine,
}

/// <summary>What a training run does; the defaults are the tutorials'.</summary>
/// <param name="LogDirectory">Where event files go; checkpoints go to its <c>checkpoints</c> folder.</param>
public sealed record TrainerOptions(string LogDirectory)
{
    /// <summary>The network.</summary>
    public ModelKind Model { get; init; } = ModelKind.CifarGap;

    /// <summary>The data set's name, recorded in the checkpoint settings (the data itself is passed to the trainer).</summary>
    public string DatasetName { get; init; } = "";

    /// <summary>Total training steps (a resumed run counts the steps before it); null: from <see cref="Epochs"/>.</summary>
    public long? Steps { get; init; }

    /// <summary>Total epochs when <see cref="Steps"/> is null (null too: <see cref="Trainer.DefaultEpochs"/>).</summary>
    public int? Epochs { get; init; }

    /// <summary>Examples per step (the tutorials' 128).</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>The learning rate; null: <see cref="Trainer.DefaultLearningRate"/>.</summary>
    public float? LearningRate { get; init; }

    /// <summary>How the rate moves after the warm-up; null: <see cref="Trainer.DefaultSchedule"/>.</summary>
    public LearningRateSchedule? LearningRateSchedule { get; init; }

    /// <summary>Steps over which the rate climbs linearly to <see cref="LearningRate"/> (0: none); null: <see cref="Trainer.DefaultSchedule"/>.</summary>
    public int? WarmupSteps { get; init; }

    /// <summary>Adam (the tutorials) or SGD.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>LeNet-5's nonlinearity (the CIFAR net always uses ReLU).</summary>
    public Activation Activation { get; init; } = Activation.Relu;

    /// <summary>TF's CIFAR-10 training distortions (random crop, flip, brightness, contrast) instead of the central crop.</summary>
    public bool Distort { get; init; }

    /// <summary>Seeds the weights, the shuffles and the distortions.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Save a checkpoint every this many steps (0: only at the end or when cancelled).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Continue from the latest checkpoint in the log directory when there is one.</summary>
    public bool Resume { get; init; }

    /// <summary>Read the loss and batch accuracy to the host and log them every this many steps (and at the last step).</summary>
    public int LogEvery { get; init; } = 100;

    /// <summary>Log the images (deconv projections, kernels) and histograms every this many steps (and at the end).</summary>
    public int ImageEvery { get; init; } = 1000;

    /// <summary>Examples per evaluation batch.</summary>
    public int EvalBatchSize { get; init; } = 256;

    /// <summary>How many test images (the first ones) the test accuracy at the end of the run counts; null: all of them.</summary>
    public int? TestImages { get; init; }

    /// <summary>Threads preparing batches (the loader's parallelism).</summary>
    public int LoaderThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>CIFAR net: the feature maps of layers 1 and 2 whose top-9 activating test images are logged after training (empty: none).</summary>
    public IReadOnlyList<int> Top9Maps { get; init; } = [0, 1, 2, 3];

    /// <summary>CIFAR net: how many test images (the first ones) the top-9 search scans; bounds its cost on the CPU.</summary>
    public int Top9Images { get; init; } = 1000;
}

/// <summary>A report sent after each logged step.</summary>
/// <param name="Step">Steps done so far.</param>
/// <param name="TotalSteps">Steps the run will do in all.</param>
/// <param name="Loss">The last logged batch loss.</param>
/// <param name="Accuracy">The last logged batch accuracy.</param>
/// <param name="ImagesPerSecond">Training throughput of this run so far.</param>
public sealed record TrainingProgress(long Step, long TotalSteps, float Loss, float Accuracy, double ImagesPerSecond);

/// <summary>How a run ended.</summary>
/// <param name="Step">Steps done (including those before a resume).</param>
/// <param name="ResumedFrom">The step the run resumed from (0 for a fresh run).</param>
/// <param name="Cancelled">Whether the token stopped it before <see cref="Trainer.TotalSteps"/>.</param>
/// <param name="Loss">The last logged batch loss (NaN when no step was logged).</param>
/// <param name="TestAccuracy">Accuracy at the end on the first <paramref name="TestImages"/> test images.</param>
/// <param name="TestImages">How many test images <paramref name="TestAccuracy"/> counts (<see cref="TrainerOptions.TestImages"/>, at most the test set).</param>
/// <param name="Elapsed">Time spent training (not evaluating).</param>
/// <param name="ImagesPerSecond">Training throughput.</param>
/// <param name="Checkpoint">The final checkpoint file.</param>
public sealed record TrainingResult(long Step, long ResumedFrom, bool Cancelled, float Loss, float TestAccuracy, int TestImages, TimeSpan Elapsed, double ImagesPerSecond, string Checkpoint);

/// <summary>
/// Trains a <see cref="ModelKind"/> network on a data set: batches from a <see cref="BatchLoader"/>, softmax cross
/// entropy, Adam or SGD; loss and accuracy scalars, the tutorials' images and histograms to a <see cref="SummaryWriter"/>;
/// checkpoints (parameters, optimizer state, step, settings) to a <see cref="CheckpointDirectory"/>. A resumed run sees
/// the same batches from the same step, so on the CPU accelerator it ends with the same parameters bit for bit.
/// </summary>
public sealed class Trainer : IDisposable
{
    /// <summary>Images logged under <c>source/cifar</c> (the tutorial's <c>tf.summary.image</c> default of 3).</summary>
    public const int SourceImages = 3;

    private readonly Accelerator _accelerator;
    private readonly Dataset _train, _test;
    private readonly Preprocess _trainInput, _testInput;
    private readonly SummaryWriter _writer;
    private readonly CheckpointDirectory _checkpoints;
    private readonly long _resumedFrom;

    /// <summary>Builds the model and optimizer, opens the log directory and, with <see cref="TrainerOptions.Resume"/>, loads the latest checkpoint.</summary>
    /// <exception cref="ArgumentException">An option is out of range, the data does not fit the model (the message names the shapes), or the checkpoint does not fit the model.</exception>
    public Trainer(Accelerator accelerator, TrainerOptions options, Dataset train, Dataset test)
    {
        ArgumentNullException.ThrowIfNull(accelerator);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        if (options.BatchSize <= 0) throw new ArgumentException($"Trainer: the batch size is {options.BatchSize}; it must be positive.", nameof(options));
        if (options.Steps is <= 0) throw new ArgumentException($"Trainer: steps is {options.Steps}; it must be positive.", nameof(options));
        if (options.Epochs is <= 0) throw new ArgumentException($"Trainer: epochs is {options.Epochs}; it must be positive.", nameof(options));
        if (options.TestImages is <= 0) throw new ArgumentException($"Trainer: test images is {options.TestImages}; it must be positive (or null for the whole test set).", nameof(options));
        if (options.LogEvery <= 0 || options.ImageEvery <= 0 || options.CheckpointEvery < 0 || options.EvalBatchSize <= 0)
            throw new ArgumentException($"Trainer: log-every {options.LogEvery}, image-every {options.ImageEvery} and eval batch size {options.EvalBatchSize} must be positive, checkpoint-every {options.CheckpointEvery} zero or positive.", nameof(options));
        if (options.WarmupSteps is < 0) throw new ArgumentException($"Trainer: warm-up steps is {options.WarmupSteps}; it must be zero or positive.", nameof(options));
        if (options.Top9Images <= 0)
            throw new ArgumentException($"Trainer: top-9 images is {options.Top9Images}; the search must scan at least one test image.", nameof(options));
        if (options.Model == ModelKind.CifarGap)
        {
            ArgumentNullException.ThrowIfNull(options.Top9Maps);
            foreach (int map in options.Top9Maps)
                if (map is < 0 or >= CifarGapNet.Features)
                    throw new ArgumentException($"Trainer: top-9 feature map {map} does not exist; layers 1 and 2 of the CIFAR network have {CifarGapNet.Features} maps (0..{CifarGapNet.Features - 1}).", nameof(options));
            if (options.Top9Maps.Count != options.Top9Maps.Distinct().Count())
                throw new ArgumentException($"Trainer: top-9 feature maps {string.Join(",", options.Top9Maps)} list a map twice; each map gets one grid.", nameof(options));
        }
        if (train.ImageShape != test.ImageShape)
            throw new ArgumentException($"Trainer: training images {train.ImageShape} and test images {test.ImageShape} must have the same shape.", nameof(test));
        if (train.Count == 0 || test.Count == 0)
            throw new ArgumentException($"Trainer: the training set ({train.Count}) and the test set ({test.Count}) must both hold examples.", nameof(train));
        _accelerator = accelerator;
        Options = options;
        _train = train;
        _test = test;
        (_trainInput, _testInput) = Inputs(options.Model, train.ImageShape, options.Distort);
        var input = _trainInput.Output;
        Model = options.Model == ModelKind.CifarGap
            ? new CifarGapNet(accelerator, input[0], input[1], input[2], train.ClassNames.Count, options.Seed)
            : new LeNet5(accelerator, options.Activation, train.ClassNames.Count, options.Seed);
        BaseLearningRate = options.LearningRate ?? DefaultLearningRate(options.Model, options.DatasetName);
        var (schedule, warmup) = DefaultSchedule(options.Model, options.DatasetName);
        LearningRateSchedule = options.LearningRateSchedule ?? schedule;
        WarmupSteps = options.WarmupSteps ?? warmup;
        Optimizer = options.Optimizer == OptimizerKind.Adam ? new AdamOptimizer(Model, BaseLearningRate) : new SgdOptimizer(Model, BaseLearningRate);
        Schedule = new EpochSchedule(train.Count, options.BatchSize, PartialBatch.Drop);
        TotalSteps = options.Steps ?? Schedule.StepsForEpochs(options.Epochs ?? DefaultEpochs(options.Model, options.DatasetName));
        _checkpoints = new CheckpointDirectory(Path.Combine(options.LogDirectory, "checkpoints"));
        if (options.Resume && _checkpoints.LoadLatest() is { } checkpoint)
        {
            Restore(checkpoint);
            _resumedFrom = checkpoint.Step;
        }
        Step = _resumedFrom;
        _writer = new SummaryWriter(options.LogDirectory);
    }

    /// <summary>The options the run was created with.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The network (a <see cref="CifarGapNet"/> or a <see cref="LeNet5"/>).</summary>
    public Module Model { get; }

    /// <summary>The optimizer over <see cref="Model"/>'s parameters.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The learning rate the schedule starts from (after the warm-up) and scales.</summary>
    public float BaseLearningRate { get; }

    /// <summary>How the rate moves after the warm-up.</summary>
    public LearningRateSchedule LearningRateSchedule { get; }

    /// <summary>Steps over which the rate climbs linearly to <see cref="BaseLearningRate"/>.</summary>
    public int WarmupSteps { get; }

    /// <summary>
    /// The rate of step <paramref name="step"/> (0-based): base * (step + 1) / warm-up during the warm-up, then the
    /// base rate (constant) or base * (1 + cos(pi * f)) / 2 with f the fraction of the remaining steps done (cosine).
    /// A function of the step alone, so a resumed run follows the same rates.
    /// </summary>
    public float LearningRateAt(long step)
    {
        if (step < WarmupSteps) return (float)((double)BaseLearningRate * (step + 1) / WarmupSteps);
        if (LearningRateSchedule == LearningRateSchedule.Constant) return BaseLearningRate;
        double fraction = Math.Min(1.0, (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps));
        return (float)(BaseLearningRate * 0.5 * (1 + Math.Cos(Math.PI * fraction)));
    }

    /// <summary>How the training set is cut into steps (the last partial batch is dropped, as TF's input queue).</summary>
    public EpochSchedule Schedule { get; }

    /// <summary>Steps the run does in all (counting those before a resume).</summary>
    public long TotalSteps { get; }

    /// <summary>Steps done so far.</summary>
    public long Step { get; private set; }

    /// <summary>The folder of the run's checkpoints.</summary>
    public string CheckpointPath => _checkpoints.Path;

    /// <summary>
    /// The learning rate when none is given: the deconv tutorial's 1e-4 for the CIFAR net on CIFAR-10; the CIFAR net on other
    /// data (<paramref name="dataset"/> not "cifar10") gets 3e-3 with <see cref="DefaultSchedule"/>'s warm-up and cosine decay,
    /// which trains it past 85% on Fashion-MNIST in the two epochs of the default run; LeNet-5 gets 3e-3 (its tutorial's
    /// 0.01 leaves the test accuracy on Fashion-MNIST swinging by a point or two from epoch to epoch).
    /// Measurements: docs/results/2026-11-22-accuracy.md.
    /// </summary>
    public static float DefaultLearningRate(ModelKind model, string dataset) =>
        model == ModelKind.LeNet5 || dataset != "cifar10" ? 3e-3f : 1e-4f;

    /// <summary>
    /// The schedule and warm-up when none is given: a constant rate (the tutorials), except for the CIFAR net on data other
    /// than CIFAR-10: 300 warm-up steps, then a cosine decay to 0. At its fast rate the ReLU before the average pool lets a
    /// class's map die in the first hundred steps (its logit stays 0 and gets no gradient); the warm-up keeps all ten alive.
    /// </summary>
    public static (LearningRateSchedule Schedule, int WarmupSteps) DefaultSchedule(ModelKind model, string dataset) =>
        model == ModelKind.CifarGap && dataset != "cifar10" ? (LearningRateSchedule.Cosine, 300) : (LearningRateSchedule.Constant, 0);

    /// <summary>
    /// Epochs when neither steps nor epochs are given: for the CIFAR net 1 on CIFAR-10 and 2 on other data (the default run
    /// must fit 10 minutes on 2 CPU cores), 8 for LeNet-5.
    /// </summary>
    public static int DefaultEpochs(ModelKind model, string dataset) => model == ModelKind.LeNet5 ? 8 : dataset == "cifar10" ? 1 : 2;

    /// <summary>
    /// The training and evaluation preprocessing for <paramref name="model"/> on images of <paramref name="imageShape"/>:
    /// CIFAR-10 shapes get TF's central crop + standardisation (or the distortions); other images for the CIFAR net are
    /// standardised whole, as the tutorial's pipeline standardises its crops; LeNet-5 takes 28x28x1 (padded to 32) or 32x32x1.
    /// </summary>
    /// <exception cref="ArgumentException">LeNet-5 is given images that are neither 28x28x1 nor 32x32x1.</exception>
    public static (Preprocess Train, Preprocess Test) Inputs(ModelKind model, Shape imageShape, bool distort)
    {
        ArgumentNullException.ThrowIfNull(imageShape);
        if (model == ModelKind.LeNet5)
        {
            if (imageShape == Preprocess.LeNet.Input) return (Preprocess.LeNet, Preprocess.LeNet);
            var padded = new Shape(LeNet5.InputSize, LeNet5.InputSize, 1);
            if (imageShape == padded) return (Preprocess.Scale(padded), Preprocess.Scale(padded));
            throw new ArgumentException($"Trainer: LeNet-5 takes gray 28x28 images (padded to 32x32) or 32x32 ones, [28, 28, 1] or [32, 32, 1], but the data set's images are {imageShape}; use --model cifar-gap for other data.", nameof(imageShape));
        }
        if (imageShape == Preprocess.CifarEval.Input)
            return (distort ? Preprocess.CifarTrain : Preprocess.CifarEval, Preprocess.CifarEval);
        return (Preprocess.Standardized(imageShape), Preprocess.Standardized(imageShape));
    }

    /// <summary>Trains until <see cref="TotalSteps"/> or until <paramref name="cancellationToken"/> is cancelled, then logs the images, saves a checkpoint, evaluates on the whole test set and flushes the logs.</summary>
    public TrainingResult Run(IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var options = Options;
        var clock = Stopwatch.StartNew();
        long images = 0;
        float loss = float.NaN;
        bool cancelled = false;
        if (Step < TotalSteps)
        {
            using var loader = new BatchLoader(_train, _trainInput, new BatchOptions(options.BatchSize)
            {
                Seed = options.Seed,
                LastBatch = PartialBatch.Drop,
                StartStep = Step,
                EndStep = TotalSteps,
                Parallelism = options.LoaderThreads,
            });
            if (Step == 0) LogImages(0);
            while (Step < TotalSteps)
            {
                if (cancellationToken.IsCancellationRequested) { cancelled = true; break; }
                using var batch = loader.Read() ?? throw new InvalidOperationException($"Trainer: the loader ended at step {Step} before {TotalSteps}.");
                using var scope = new TensorScope();
                var x = Tensor.FromArray(_accelerator, batch.Images.Span, batch.Shape);
                var labels = Tensor.FromArray(_accelerator, batch.Labels.Span, [batch.Count]);
                var logits = Model.Forward(x);
                var lossTensor = Functional.SoftmaxCrossEntropy(logits, labels);
                // Reading to the host waits for the queued work, so only at log intervals; the logits are read before
                // the backward pass, which frees the step's activations as it goes.
                bool log = (Step + 1) % options.LogEvery == 0 || Step + 1 == TotalSteps;
                float[]? logitValues = log ? logits.ToArray() : null;
                Optimizer.ZeroGrad();
                lossTensor.Backward(freeIntermediates: true);
                Optimizer.LearningRate = LearningRateAt(Step);
                Optimizer.Step();
                Step++;
                images += batch.Count;
                if (logitValues is not null)
                {
                    loss = lossTensor.ToArray()[0];
                    float accuracy = Correct(logitValues, batch.Labels.Span) / (float)batch.Count;
                    _writer.AddScalar("loss", loss, Step);
                    _writer.AddScalar("accuracy", accuracy, Step);
                    _writer.AddScalar("learning_rate", Optimizer.LearningRate, Step);
                    progress?.Report(new TrainingProgress(Step, TotalSteps, loss, accuracy, images / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
                }
                if (Step % options.ImageEvery == 0 && Step != TotalSteps) LogImages(Step);
                if (options.CheckpointEvery > 0 && Step % options.CheckpointEvery == 0 && Step != TotalSteps) SaveCheckpoint();
            }
        }
        _accelerator.Synchronize();
        var elapsed = clock.Elapsed;
        LogImages(Step);
        var file = SaveCheckpoint();
        float testAccuracy = Evaluate();
        _writer.AddScalar("test/accuracy", testAccuracy, Step);
        if (Model is LeNet5 lenet) LogClassFeatures(lenet, Step);
        if (Model is CifarGapNet cifar && Options.Top9Maps.Count > 0) LogTopActivations(cifar, Step);
        _writer.Flush();
        return new TrainingResult(Step, _resumedFrom, cancelled, loss, testAccuracy, TestSet.Count, elapsed, images / Math.Max(elapsed.TotalSeconds, 1e-9), file.Path);
    }

    /// <summary>The accuracy of the current parameters on the first <see cref="TrainerOptions.TestImages"/> test images (all by default; no partial batch dropped).</summary>
    public float Evaluate() => Evaluate(Model, _accelerator, TestSet, _testInput, Options.EvalBatchSize);

    // The test images the accuracy counts.
    private Dataset TestSet => Options.TestImages is { } count && count < _test.Count ? _test.Slice(0, count) : _test;

    /// <summary>The accuracy of <paramref name="model"/> on every example of <paramref name="test"/>, prepared by <paramref name="input"/>.</summary>
    public static float Evaluate(Module model, Accelerator accelerator, Dataset test, Preprocess input, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(test);
        var schedule = new EpochSchedule(test.Count, batchSize, PartialBatch.Keep);
        using var loader = new BatchLoader(test, input, new BatchOptions(batchSize) { Shuffle = false, LastBatch = PartialBatch.Keep, EndStep = schedule.StepsPerEpoch });
        using var noGrad = Autograd.NoGrad();
        long correct = 0;
        while (loader.Read() is { } batch)
        {
            using (batch)
            {
                using var scope = new TensorScope();
                var logits = model.Forward(Tensor.FromArray(accelerator, batch.Images.Span, batch.Shape));
                correct += Correct(logits.ToArray(), batch.Labels.Span);
            }
        }
        return (float)(correct / (double)test.Count);
    }

    private static int Correct(float[] logits, ReadOnlySpan<int> labels)
    {
        int classes = logits.Length / labels.Length, correct = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            // argmax, first maximum wins as tf.argmax.
            int best = 0;
            for (int c = 1; c < classes; c++)
                if (logits[n * classes + c] > logits[n * classes + best]) best = c;
            if (best == labels[n]) correct++;
        }
        return correct;
    }

    /// <summary>The first <paramref name="count"/> test images, prepared for evaluation, as [count, H, W, C] floats.</summary>
    private float[] TestImages(int count, out Shape shape)
    {
        count = Math.Min(count, _test.Count);
        var output = _testInput.Output;
        int size = (int)output.Size;
        var pixels = new float[count * size];
        for (int i = 0; i < count; i++) _testInput.Apply(_test.ImageSpan(i), pixels.AsSpan(i * size, size), 0);
        shape = new Shape(count, output[0], output[1], output[2]);
        return pixels;
    }

    private void LogImages(long step)
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        if (Model is CifarGapNet cifar)
        {
            // The tutorial's summary: [input | layer-1 projection | layer-2 projection] along the width, tag source/cifar.
            var images = Tensor.FromArray(_accelerator, TestImages(SourceImages, out var shape), shape);
            var trace = new ForwardTrace();
            cifar.Logits(images, trace);
            var layer1 = Deconvnet.Project(trace, layer: 0, DeconvnetVariant.Tutorial);
            var layer2 = Deconvnet.Project(trace, layer: 1, DeconvnetVariant.Tutorial);
            var stitched = Deconvnet.Stitch(images, layer1, layer2);
            _writer.AddImages("source/cifar", stitched.ToArray(), stitched.Shape[1], stitched.Shape[2], stitched.Shape[3], ImageLayout.Hwc, step, SourceImages);
        }
        else if (Model is LeNet5 lenet)
        {
            foreach (var (name, parameter) in lenet.NamedParameters()) _writer.AddHistogram(name, parameter.ToArray(), step);
            AddKernels("conv1/kernels", lenet.Conv1.Weight, step);
            AddKernels("conv2/kernels", lenet.Conv2.Weight, step);
            foreach (var (name, fc) in new[] { ("fc1", lenet.Fc1), ("fc2", lenet.Fc2), ("fc3", lenet.Fc3) })
                _writer.AddImage(name + "/weights", MinMax(fc.Weight.ToArray()), fc.InFeatures, fc.OutFeatures, 1, ImageLayout.Hwc, step);
            var input = Tensor.FromArray(_accelerator, TestImages(1, out var shape), shape);
            var run = lenet.Run(input);
            AddFeatureMaps("conv1/features", run.Conv1, step);
            AddFeatureMaps("conv2/features", run.Conv2, step);
        }
        _writer.Flush();
    }

    /// <summary>A filter [kh, kw, in, out] as a grid of kh x kw cells, one row per output channel, min-max scaled over the whole filter as the tutorial's <c>_conv_visual</c>.</summary>
    private void AddKernels(string tag, Tensor filter, long step)
    {
        int kh = filter.Shape[0], kw = filter.Shape[1], inputs = filter.Shape[2], outputs = filter.Shape[3];
        float[] w = MinMax(filter.ToArray());
        var cells = new byte[outputs * inputs * kh * kw];
        for (int o = 0; o < outputs; o++)
            for (int i = 0; i < inputs; i++)
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                        cells[((o * inputs + i) * kh + y) * kw + x] = (byte)MathF.Round(w[((y * kw + x) * inputs + i) * outputs + o] * 255f);
        var images = new ByteImage[outputs * inputs];
        for (int c = 0; c < images.Length; c++) images[c] = ByteImage.FromBytes(cells.AsSpan(c * kh * kw, kh * kw), kh, kw, 1, ImageLayout.Hwc);
        _writer.AddImage(tag, ImageGrid.Tile(images, columns: inputs == 1 ? Math.Min(outputs, ImageGrid.DefaultColumns) : inputs, padding: 1), step);
    }

    /// <summary>Test samples per class in the LeNet tutorial's fc2 feature-map images.</summary>
    public const int ClassFeatureSamples = 100;

    /// <summary>
    /// The LeNet tutorial's picture of what fc2 learned: per class, the fc2 activations of its first 100 test samples
    /// (fewer when the test set holds fewer) as a [samples x 84] gray image, min-max scaled over that image; logged as
    /// fc2/class/&lt;k&gt; and saved as fc2-class-&lt;k&gt;.png in the log directory. Classes without test samples are skipped.
    /// </summary>
    private void LogClassFeatures(LeNet5 lenet, long step)
    {
        using var noGrad = Autograd.NoGrad();
        var output = _testInput.Output;
        int size = (int)output.Size;
        for (int label = 0; label < _test.ClassNames.Count; label++)
        {
            var indices = new List<int>(ClassFeatureSamples);
            for (int i = 0; i < _test.Count && indices.Count < ClassFeatureSamples; i++)
                if (_test.Label(i) == label) indices.Add(i);
            if (indices.Count == 0) continue;
            var pixels = new float[indices.Count * size];
            for (int i = 0; i < indices.Count; i++) _testInput.Apply(_test.ImageSpan(indices[i]), pixels.AsSpan(i * size, size), 0);
            using var scope = new TensorScope();
            var images = Tensor.FromArray(_accelerator, pixels, new Shape(indices.Count, output[0], output[1], output[2]));
            var fc2 = lenet.Run(images).Fc2;
            var image = ByteImage.FromFloats(MinMax(fc2.ToArray()), indices.Count, fc2.Shape[1], 1, ImageLayout.Hwc);
            _writer.AddImage(string.Create(CultureInfo.InvariantCulture, $"fc2/class/{label}"), image, step);
            PngEncoder.Save(Path.Combine(Options.LogDirectory, string.Create(CultureInfo.InvariantCulture, $"fc2-class-{label}.png")), image);
        }
    }

    /// <summary>
    /// Zeiler and Fergus's top 9: for layers 1 and 2 and each of <see cref="TrainerOptions.Top9Maps"/>, the 9 of the first
    /// <see cref="TrainerOptions.Top9Images"/> test images whose pooled layer output has the largest maximum in that map
    /// (<see cref="TopActivations.Best"/>), each next to the Zeiler and Fergus projection of that map's strongest
    /// activation (<see cref="TopActivations.Grid"/>); logged as top9/layer&lt;L&gt;/map&lt;K&gt; and saved as
    /// top9-layer&lt;L&gt;-map&lt;K&gt;.png in the log directory.
    /// </summary>
    private void LogTopActivations(CifarGapNet cifar, long step)
    {
        const int layers = 2;
        var maps = Options.Top9Maps;
        int count = Math.Min(Options.Top9Images, _test.Count), batchSize = Options.EvalBatchSize;
        var output = _testInput.Output;
        int size = (int)output.Size;
        using var noGrad = Autograd.NoGrad();

        // scores[layer][m][i]: the largest activation of map maps[m] in the layer's pooled output for test image i.
        var scores = new float[layers][][];
        for (int layer = 0; layer < layers; layer++)
        {
            scores[layer] = new float[maps.Count][];
            for (int m = 0; m < maps.Count; m++) scores[layer][m] = new float[count];
        }
        var pixels = new float[Math.Min(batchSize, count) * size];
        for (int start = 0; start < count; start += batchSize)
        {
            int n = Math.Min(batchSize, count - start);
            for (int i = 0; i < n; i++) _testInput.Apply(_test.ImageSpan(start + i), pixels.AsSpan(i * size, size), 0);
            using var scope = new TensorScope();
            var trace = new ForwardTrace();
            cifar.Logits(Tensor.FromArray(_accelerator, pixels.AsSpan(0, n * size), new Shape(n, output[0], output[1], output[2])), trace);
            for (int layer = 0; layer < layers; layer++)
            {
                // The maximum over the map's positions on the device: only [n, maps] values come back to the host.
                var activations = trace.LayerOutput(layer);
                var maxima = Tensor.Empty(_accelerator, Reductions.OutputShape(activations.Shape, [1, 2], keepDims: false));
                Reductions.Max(maxima.Stream, activations.View, [1, 2], maxima.View);
                float[] host = maxima.ToArray();
                int channels = activations.Shape[3];
                for (int m = 0; m < maps.Count; m++)
                    for (int i = 0; i < n; i++) scores[layer][m][start + i] = host[i * channels + maps[m]];
            }
        }

        for (int layer = 0; layer < layers; layer++)
        {
            for (int m = 0; m < maps.Count; m++)
            {
                int[] best = TopActivations.Best(scores[layer][m], TopActivations.Count);
                var chosen = new float[best.Length * size];
                for (int i = 0; i < best.Length; i++) _testInput.Apply(_test.ImageSpan(best[i]), chosen.AsSpan(i * size, size), 0);
                using var scope = new TensorScope();
                var trace = new ForwardTrace();
                cifar.Logits(Tensor.FromArray(_accelerator, chosen, new Shape(best.Length, output[0], output[1], output[2])), trace);
                var projection = Deconvnet.Project(trace, layer, DeconvnetVariant.ZeilerFergus, ProjectionSelection.StrongestActivation(maps[m]));
                var grid = TopActivations.Grid(chosen, projection.ToArray(), best.Length, output[0], output[1], output[2]);
                _writer.AddImage(string.Create(CultureInfo.InvariantCulture, $"top9/layer{layer + 1}/map{maps[m]}"), grid, step);
                PngEncoder.Save(Path.Combine(Options.LogDirectory, string.Create(CultureInfo.InvariantCulture, $"top9-layer{layer + 1}-map{maps[m]}.png")), grid);
            }
        }
    }

    /// <summary>The first image's feature maps [1, H, W, C] as a grid of C gray cells, each scaled on its own.</summary>
    private void AddFeatureMaps(string tag, Tensor maps, long step)
    {
        int h = maps.Shape[1], w = maps.Shape[2], c = maps.Shape[3];
        float[] values = maps.ToArray();
        var planes = new float[c * h * w];
        for (int k = 0; k < c; k++)
            for (int p = 0; p < h * w; p++) planes[k * h * w + p] = values[p * c + k];
        _writer.AddImageGrid(tag, planes, h, w, 1, ImageLayout.Hwc, step);
    }

    private static float[] MinMax(float[] values)
    {
        float min = values.Min(), max = values.Max(), range = max - min;
        return [.. values.Select(v => range > 0 ? (v - min) / range : 0f)];
    }

    private CheckpointFile SaveCheckpoint()
    {
        var parameters = Model.ExportParameters().ToDictionary(p => p.Key, p => (HostTensor)new HostTensor<float>(p.Value.Shape, p.Value.Data), StringComparer.Ordinal);
        var state = Optimizer.ExportState().ToDictionary(p => p.Key, p => (HostTensor)new HostTensor<float>(p.Value.Shape, p.Value.Data), StringComparer.Ordinal);
        var file = _checkpoints.Save(new Checkpoint(Step, parameters, state, Settings()));
        return file;
    }

    /// <summary>The run's settings as stored in each checkpoint (enough for <c>evaluate</c> to rebuild the model).</summary>
    public IReadOnlyDictionary<string, string> Settings() => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["model"] = Options.Model.ToString(),
        ["dataset"] = Options.DatasetName,
        ["image_shape"] = string.Join(",", _trainInput.Input.Dims),
        ["classes"] = _train.ClassNames.Count.ToString(CultureInfo.InvariantCulture),
        ["activation"] = Options.Activation.ToString(),
        ["optimizer"] = Options.Optimizer.ToString(),
        ["learning_rate"] = BaseLearningRate.ToString("R", CultureInfo.InvariantCulture),
        ["learning_rate_schedule"] = LearningRateSchedule.ToString(),
        ["warmup_steps"] = WarmupSteps.ToString(CultureInfo.InvariantCulture),
        ["batch_size"] = Options.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["distort"] = Options.Distort.ToString(),
        ["seed"] = Options.Seed.ToString(CultureInfo.InvariantCulture),
        ["total_steps"] = TotalSteps.ToString(CultureInfo.InvariantCulture),
    };

    private void Restore(Checkpoint checkpoint)
    {
        // Host buffers of the model's shapes: CopyTo checks every name and shape first and names each mismatch.
        var parameters = Model.ExportParameters().ToDictionary(p => p.Key, p => (HostTensor)new HostTensor<float>(p.Value.Shape, new float[p.Value.Data.Length]), StringComparer.Ordinal);
        var state = Optimizer.ExportState().ToDictionary(p => p.Key, p => (HostTensor)new HostTensor<float>(p.Value.Shape, new float[p.Value.Data.Length]), StringComparer.Ordinal);
        try
        {
            checkpoint.CopyTo(parameters, state);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Trainer: cannot resume from {_checkpoints.Latest()?.Path}: {e.Message}", nameof(checkpoint), e);
        }
        Model.ImportParameters(parameters.ToDictionary(p => p.Key, p => new HostArray(p.Value.Shape, ((HostTensor<float>)p.Value).Data), StringComparer.Ordinal));
        Optimizer.ImportState(state.ToDictionary(p => p.Key, p => new HostArray(p.Value.Shape, ((HostTensor<float>)p.Value).Data), StringComparer.Ordinal));
    }

    /// <summary>Flushes and closes the event file and frees the model and optimizer.</summary>
    public void Dispose()
    {
        _writer.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
    }
}
