using System.Diagnostics;
using System.Globalization;
using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;

namespace GpuDeconv.Training;

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

/// <summary>
/// What a training run does. These are the one source of the defaults (the tutorials' where they have one): the
/// <c>gpudeconv train</c> options take theirs from <see cref="Defaults"/> and <c>--help</c> shows them, and
/// <see cref="Problems"/> is the one place the values are checked, by the trainer and by the command line alike.
/// </summary>
/// <param name="LogDirectory">Where event files go; checkpoints go to its <c>checkpoints</c> folder.</param>
public sealed record TrainerOptions(string LogDirectory)
{
    /// <summary>The defaults, for a command line to show and start from.</summary>
    public static TrainerOptions Defaults { get; } = new("runs");

    /// <summary>
    /// The defaults on a debugging device (ILGPU's CPU accelerator, whose kernels run about 1000x slower than ours):
    /// smaller batches and the final accuracy on a sample of the test set, so that a check run takes minutes.
    /// </summary>
    public static TrainerOptions DebuggingDeviceDefaults { get; } = Defaults with { BatchSize = 32, TestImages = 512 };

    /// <summary>The network, by its <c>--model</c> name (<see cref="TrainerModels"/>: cifar-gap, lenet5).</summary>
    public string Model { get; init; } = TrainerModels.DefaultName;

    /// <summary>The data set's name, recorded in the checkpoint settings (the data itself is passed to the trainer).</summary>
    public string DatasetName { get; init; } = "";

    /// <summary>Total training steps (a resumed run counts the steps before it); null: from <see cref="Epochs"/>.</summary>
    public long? Steps { get; init; }

    /// <summary>Total epochs when <see cref="Steps"/> is null (null too: the model's <see cref="ITrainerModel.Defaults"/>).</summary>
    public int? Epochs { get; init; }

    /// <summary>Examples per step (the tutorials' 128).</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>The learning rate; null: the model's <see cref="ITrainerModel.Defaults"/> on the data set.</summary>
    public float? LearningRate { get; init; }

    /// <summary>How the rate moves after the warm-up; null: the model's <see cref="ITrainerModel.Defaults"/>.</summary>
    public LearningRateSchedule? LearningRateSchedule { get; init; }

    /// <summary>Steps over which the rate climbs linearly to <see cref="LearningRate"/> (0: none); null: the model's <see cref="ITrainerModel.Defaults"/>.</summary>
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
    public int CheckpointEvery { get; init; } = 1000;

    /// <summary>Continue from the latest checkpoint in the log directory when there is one.</summary>
    public bool Resume { get; init; }

    /// <summary>Read the loss and batch accuracy to the host and log them every this many steps (and at the last step).</summary>
    public int LogEvery { get; init; } = 50;

    /// <summary>Log the images (deconv projections, kernels) and histograms every this many steps (and at the end).</summary>
    public int ImageEvery { get; init; } = 500;

    /// <summary>Examples per evaluation batch.</summary>
    public int EvalBatchSize { get; init; } = 256;

    /// <summary>How many test images (the first ones) the test accuracy at the end of the run counts; null: all of them.</summary>
    public int? TestImages { get; init; }

    /// <summary>When the run ends, draw its loss and accuracy charts (<see cref="TrainingCharts"/>: loss.png, accuracy.png) into the log directory.</summary>
    public bool Charts { get; init; } = true;

    /// <summary>Threads preparing batches (the loader's parallelism).</summary>
    public int LoaderThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>CIFAR net: the feature maps of layers 1 and 2 whose top-9 activating test images are logged after training (empty: none).</summary>
    public IReadOnlyList<int> Top9Maps { get; init; } = [0, 1, 2, 3];

    /// <summary>CIFAR net: how many test images (the first ones) the top-9 search scans; bounds its cost on the CPU.</summary>
    public int Top9Images { get; init; } = 1000;

    /// <summary>
    /// How many times the image panels (TensorBoard and their PNG files) are enlarged, each pixel repeated in a square
    /// (nearest neighbour), so a 24x72 panel is readable at TensorBoard's card size; null (<c>--image-scale auto</c>, the
    /// default): per panel, the smallest factor that makes its shorter side at least <see cref="TrainingSummaries.PanelShortSide"/>
    /// pixels without taking its longer side past <see cref="TrainingSummaries.PanelLongSide"/> (<see cref="TrainingSummaries.AutoScale"/>);
    /// 1 logs the panels at the tutorials' size. Tags do not change.
    /// </summary>
    public int? ImageScale { get; init; }

    /// <summary>The largest <see cref="ImageScale"/> accepted (auto gives at most 29, for LeNet's 7x37 kernel grid).</summary>
    public const int MaxImageScale = 32;

    /// <summary>
    /// What is wrong with these options, one sentence each naming the option as the command line spells it (empty when
    /// nothing is): sizes and counts that must be positive, steps or epochs but not both, a finite positive learning
    /// rate, the top-9 maps the CIFAR network has.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Positive(long? value, string option)
        {
            if (value is <= 0) problems.Add($"{option} must be positive, not {value}.");
        }
        Positive(BatchSize, "--batch-size");
        Positive(Steps, "--steps");
        Positive(Epochs, "--epochs");
        if (Steps is not null && Epochs is not null) problems.Add("Give --steps or --epochs, not both.");
        if (LearningRate is { } rate && !(rate > 0 && float.IsFinite(rate))) problems.Add($"--lr must be a positive number, not {rate}.");
        if (WarmupSteps is < 0) problems.Add($"--warmup-steps must be 0 or more, not {WarmupSteps}.");
        if (Resume && string.IsNullOrEmpty(LogDirectory)) problems.Add("--resume needs --logdir (the run to continue).");
        if (CheckpointEvery < 0) problems.Add($"--checkpoint-every must be 0 (only at the end) or more, not {CheckpointEvery}.");
        Positive(LogEvery, "--log-every");
        Positive(ImageEvery, "--image-every");
        Positive(EvalBatchSize, "evaluate --batch-size");
        Positive(TestImages, "--test-images");
        Positive(Top9Images, "--top9-images");
        if (ImageScale is < 1 or > MaxImageScale) problems.Add($"--image-scale must be auto or a whole factor from 1 to {MaxImageScale}, not {ImageScale}.");
        Positive(LoaderThreads, "the loader's thread count");
        if (TrainerModels.Find(Model) is { } model) problems.AddRange(model.Problems(this));
        else problems.Add($"--model '{Model}' is not a model here; the models are {string.Join(", ", TrainerModels.All.Select(m => m.Name))}.");
        return problems;
    }
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
public sealed record TrainingResult(long Step, long ResumedFrom, bool Cancelled, float Loss, float TestAccuracy, int TestImages, TimeSpan Elapsed, double ImagesPerSecond, string Checkpoint)
{
    /// <summary>The loss and accuracy charts drawn into the log directory, or null when <see cref="TrainerOptions.Charts"/> is off.</summary>
    public DrawnCharts? Charts { get; init; }
}

/// <summary>
/// Trains a network (<see cref="ITrainerModel"/>, by <see cref="TrainerOptions.Model"/>) on a data set: batches from a <see cref="BatchLoader"/>, softmax cross
/// entropy, Adam or SGD; loss and accuracy scalars, the tutorials' images and histograms to a <see cref="SummaryWriter"/>;
/// checkpoints (parameters, optimizer state, step, settings) to a <see cref="CheckpointDirectory"/>; at the end, loss and
/// accuracy charts beside the logs (<see cref="TrainingCharts"/>, unless <see cref="TrainerOptions.Charts"/> is off). A resumed run sees
/// the same batches from the same step, so on the CPU accelerator it ends with the same parameters bit for bit.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly Accelerator _accelerator;
    private readonly Dataset _train, _test;
    private readonly Preprocess _trainInput, _testInput;
    private readonly SummaryWriter _writer;
    private readonly TrainingSummaries _summaries;
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
        if (options.Problems() is { Count: > 0 } problems)
            throw new ArgumentException("Trainer: " + string.Join(" ", problems), nameof(options));
        if (train.ImageShape != test.ImageShape)
            throw new ArgumentException($"Trainer: training images {train.ImageShape} and test images {test.ImageShape} must have the same shape.", nameof(test));
        if (train.Count == 0 || test.Count == 0)
            throw new ArgumentException($"Trainer: the training set ({train.Count}) and the test set ({test.Count}) must both hold examples.", nameof(train));
        _accelerator = accelerator;
        Options = options;
        _train = train;
        _test = test;
        Definition = TrainerModels.Get(options.Model);
        (_trainInput, _testInput) = Definition.Inputs(train.ImageShape, options.Distort);
        Model = Definition.Create(accelerator, new ModelSetup(_trainInput.Output, train.ClassNames.Count, options.Activation, options.Seed));
        var defaults = Definition.Defaults(options.DatasetName);
        BaseLearningRate = options.LearningRate ?? defaults.LearningRate;
        LearningRateSchedule = options.LearningRateSchedule ?? defaults.Schedule;
        WarmupSteps = options.WarmupSteps ?? defaults.WarmupSteps;
        Optimizer = options.Optimizer == OptimizerKind.Adam ? new AdamOptimizer(Model, BaseLearningRate) : new SgdOptimizer(Model, BaseLearningRate);
        Schedule = new EpochSchedule(train.Count, options.BatchSize, PartialBatch.Drop);
        TotalSteps = options.Steps ?? Schedule.StepsForEpochs(options.Epochs ?? defaults.Epochs);
        _checkpoints = new CheckpointDirectory(Path.Combine(options.LogDirectory, "checkpoints"));
        if (options.Resume && _checkpoints.LoadLatest() is { } checkpoint)
        {
            Restore(checkpoint);
            _resumedFrom = checkpoint.Step;
        }
        Step = _resumedFrom;
        _writer = new SummaryWriter(options.LogDirectory);
        _summaries = new TrainingSummaries(_writer, accelerator, options, test, _testInput);
    }

    /// <summary>The options the run was created with.</summary>
    public TrainerOptions Options { get; }

    /// <summary>What the network is (its inputs, defaults and summaries).</summary>
    public ITrainerModel Definition { get; }

    /// <summary>The network.</summary>
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

    /// <summary>Trains until <see cref="TotalSteps"/> or until <paramref name="cancellationToken"/> is cancelled, then logs the images, saves a checkpoint, evaluates on the whole test set, flushes the logs and draws the charts.</summary>
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
        Definition.LogFinal(_summaries, Model, Step);
        _writer.Flush();
        return new TrainingResult(Step, _resumedFrom, cancelled, loss, testAccuracy, TestSet.Count, elapsed, images / Math.Max(elapsed.TotalSeconds, 1e-9), file.Path)
        {
            Charts = options.Charts ? DrawCharts() : null,
        };
    }

    // The charts are a view of the logs just flushed: when they cannot be drawn (a damaged older event file in the log
    // directory, SkiaSharp's native library missing on this platform) the run still succeeded, and the result says why.
    // A write that fails (a full disk) is an I/O error like a checkpoint's and is thrown.
    private DrawnCharts DrawCharts()
    {
        try
        {
            return TrainingCharts.Draw(Options.LogDirectory);
        }
        catch (Exception e) when (e is InvalidDataException or DllNotFoundException or TypeInitializationException)
        {
            string reason = e is TypeInitializationException { InnerException: { } inner } ? inner.Message : e.Message;
            return new DrawnCharts([], [Options.LogDirectory], [$"the charts were not drawn: {reason}"]);
        }
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

    private void LogImages(long step)
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        Definition.LogImages(_summaries, Model, step);
        _writer.Flush();
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
        ["model"] = Definition.CheckpointName,
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
