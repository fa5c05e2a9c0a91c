using System.CommandLine;
using System.Globalization;
using GpuDeconv.Compute;
using GpuDeconv.Layers;
using GpuDeconv.Training;
using Spectre.Console;

namespace GpuDeconv.Trainer;

/// <summary>The <c>gpudeconv</c> command line: <c>train</c>, <c>evaluate</c>, <c>visualize</c>, <c>plot</c> and <c>devices</c>.</summary>
public static partial class Program
{
    /// <summary>Exit code for a bad command line (System.CommandLine's parse errors use 1 as well).</summary>
    public const int UsageError = 1;

    /// <summary>Exit code when the data, a checkpoint or the accelerator asked for is missing.</summary>
    public const int MissingInput = 2;

    /// <summary>Environment variable: where <c>train --dataset auto</c> downloads CIFAR-10 from instead of the official archive (a mirror, or a test server).</summary>
    public const string CifarUrlVariable = "GPUDECONV_CIFAR10_URL";

    /// <summary>Environment variable: the MD5 of the archive at <see cref="CifarUrlVariable"/> when it is not the official file.</summary>
    public const string CifarMd5Variable = "GPUDECONV_CIFAR10_MD5";

    /// <summary>How long <c>train --dataset auto</c> waits for the CIFAR-10 server to answer before falling back, so an offline machine starts within seconds.</summary>
    public static readonly TimeSpan DownloadConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Runs the command line on the real console; Ctrl+C stops training cleanly.</summary>
    public static int Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C asks the loop to stop (checkpoint + flushed logs); a second one kills the process.
            if (cancel.IsCancellationRequested) return;
            e.Cancel = true;
            cancel.Cancel();
        };
        // A terminal gets colour and a live progress bar; a file or a pipe gets plain lines, without escape sequences.
        bool redirected = Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        return Run(args, Console.Out, Console.Error, console, cancel.Token);
    }

    /// <summary>Runs the command line with the given writers (tests capture them); <paramref name="console"/> draws the progress and summary.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, IAnsiConsole? console = null, CancellationToken cancellationToken = default)
    {
        console ??= AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
        var root = new RootCommand("GpuDeconv sample trainer: the deconv tutorial's CIFAR network and LeNet-5, with deconvnet images in TensorBoard.");
        root.Subcommands.Add(TrainCommand(console, output, error, cancellationToken));
        root.Subcommands.Add(EvaluateCommand(output, error));
        root.Subcommands.Add(VisualizeCommand(output, error));
        root.Subcommands.Add(PlotCommand(output, error));
        root.Subcommands.Add(DevicesCommand(output));
        var parse = root.Parse(args);
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (DescribeFailure(e) is var (line, code))
        {
            error.WriteLine(line);
            return code;
        }
    }

    private static Option<string> AcceleratorOption() => new Option<string>("--accelerator")
    {
        Description = "auto (CUDA, then OpenCL, then CPU), cuda, opencl or cpu (our backends), or ilgpu-cuda, ilgpu-opencl or ilgpu-cpu (ILGPU's).",
        DefaultValueFactory = _ => "auto",
    }.AcceptOnlyFromAmong("auto", "cuda", "opencl", "cpu", "ilgpu-cuda", "ilgpu-opencl", "ilgpu-cpu");

    private static Option<string> DatasetOption(string auto = "auto (CIFAR-10 under --data-dir, else Fashion-MNIST)") => new Option<string>("--dataset")
    {
        Description = $"{auto}, cifar10, fashion-mnist or mnist.",
        DefaultValueFactory = _ => "auto",
    }.AcceptOnlyFromAmong("auto", "cifar10", "fashion-mnist", "mnist");

    private static Option<string> DataDirOption() => new("--data-dir")
    {
        Description = "Where the data sets are (CIFAR-10 as cifar-10-batches-bin, MNIST IDX files).",
        DefaultValueFactory = _ => "data",
    };

    // The final accuracy's default sample and the training batch's default on ILGPU's CPU accelerator, whose kernels run
    // about 1000x slower than ours (the whole test set and the tutorials' 128 elsewhere).
    private static int IlgpuCpuTestImages => TrainerOptions.DebuggingDeviceDefaults.TestImages!.Value;

    private static int IlgpuCpuBatchSize => TrainerOptions.DebuggingDeviceDefaults.BatchSize;

    private static Command TrainCommand(IAnsiConsole console, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var models = TrainerModels.All;
        var model = new Option<string>("--model")
        {
            Description = string.Join("; ", models.Select(m => $"{m.Name}: {m.Description}")) + ".",
            DefaultValueFactory = _ => TrainerOptions.Defaults.Model,
        }.AcceptOnlyFromAmong([.. models.Select(m => m.Name)]);
        // Each model's defaults, on CIFAR-10 and on other data, as --help shows them.
        string DefaultsOf(Func<TrainingDefaults, string> describe) => string.Join("; ", models.Select(m =>
        {
            string onCifar = describe(m.Defaults("cifar10")), elsewhere = describe(m.Defaults("fashion-mnist"));
            return onCifar == elsewhere ? $"{m.Name} {onCifar}" : $"{m.Name} {onCifar} on CIFAR-10, {elsewhere} on other data";
        }));
        static string Rate(TrainingDefaults d) =>
            d.LearningRate.ToString("G3", CultureInfo.InvariantCulture) + " " + d.Schedule.ToString().ToLowerInvariant() + (d.WarmupSteps > 0 ? $" after {d.WarmupSteps} warm-up steps" : "");
        var dataset = DatasetOption($"auto (CIFAR-10 under --data-dir, else downloaded there when online, else Fashion-MNIST; {CifarUrlVariable} overrides the URL)");
        var noDownload = new Option<bool>("--no-download") { Description = "With --dataset auto, never download CIFAR-10: use Fashion-MNIST when its files are missing." };
        var dataDir = DataDirOption();
        var accelerator = AcceleratorOption();
        var steps = new Option<long?>("--steps") { Description = $"Training steps (default: --epochs, else {DefaultsOf(d => $"{d.Epochs} epoch{(d.Epochs == 1 ? "" : "s")}")})." };
        var epochs = new Option<int?>("--epochs") { Description = "Training epochs when --steps is not given." };
        var batchSize = new Option<int?>("--batch-size") { Description = $"Examples per step (default: {TrainerOptions.Defaults.BatchSize}, the tutorials'; {IlgpuCpuBatchSize} on ilgpu-cpu)." };
        var lr = new Option<float?>("--lr") { Description = $"Learning rate (default: {DefaultsOf(Rate)})." };
        var lrSchedule = new Option<string?>("--lr-schedule") { Description = "constant or cosine (down to 0 at the end of the run), after the warm-up (default: see --lr)." }
            .AcceptOnlyFromAmong("constant", "cosine");
        var warmupSteps = new Option<int?>("--warmup-steps") { Description = "Steps over which the learning rate climbs linearly to --lr (default: see --lr)." };
        var defaults = TrainerOptions.Defaults;
        var optimizer = new Option<string>("--optimizer") { Description = "adam or sgd.", DefaultValueFactory = _ => defaults.Optimizer.ToString().ToLowerInvariant() }.AcceptOnlyFromAmong("adam", "sgd");
        var activation = new Option<string>("--activation") { Description = "relu, sigmoid, or both: sibling runs <logdir>/relu and <logdir>/sigmoid that TensorBoard compares (LeNet-5).", DefaultValueFactory = _ => defaults.Activation.ToString().ToLowerInvariant() }
            .AcceptOnlyFromAmong("relu", "sigmoid", "both");
        var distort = new Option<bool>("--distort") { Description = "TF's CIFAR-10 training distortions." };
        var logdir = new Option<string?>("--logdir") { Description = "Log directory (default runs/<model>-<dataset>-<time>)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights, shuffles and distortions.", DefaultValueFactory = _ => defaults.Seed };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints (0: only at the end).", DefaultValueFactory = _ => defaults.CheckpointEvery };
        var logEvery = new Option<int>("--log-every") { Description = "Steps between loss/accuracy scalars.", DefaultValueFactory = _ => defaults.LogEvery };
        var imageEvery = new Option<int>("--image-every") { Description = "Steps between image summaries.", DefaultValueFactory = _ => defaults.ImageEvery };
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest checkpoint in --logdir." };
        var noCharts = new Option<bool>("--no-charts") { Description = $"Do not draw {TrainingCharts.LossFile} and {TrainingCharts.AccuracyFile} into the log directory at the end (gpudeconv plot draws them later)." };
        var top9Maps = new Option<string>("--top9-maps")
        {
            Description = "cifar-gap: comma-separated feature maps of layers 1 and 2 whose top-9 activating test images are logged after training, or none.",
            DefaultValueFactory = _ => defaults.Top9Maps.Count == 0 ? "none" : string.Join(",", defaults.Top9Maps),
        };
        var imageScale = new Option<string>("--image-scale")
        {
            Description = $"How many times the TensorBoard image panels and their PNG files are enlarged (nearest neighbour), 1 to {TrainerOptions.MaxImageScale}, " +
                          $"or auto: per panel, the smallest factor that makes the shorter side at least {TrainingSummaries.PanelShortSide} px (the longer side at most {TrainingSummaries.PanelLongSide}).",
            DefaultValueFactory = _ => defaults.ImageScale?.ToString(CultureInfo.InvariantCulture) ?? "auto",
        };
        var top9Images = new Option<int>("--top9-images") { Description = "cifar-gap: how many test images the top-9 search scans.", DefaultValueFactory = _ => defaults.Top9Images };
        var testImages = new Option<int?>("--test-images")
        {
            Description = $"How many test images (the first ones) the final test accuracy counts (default: all; {IlgpuCpuTestImages} on ilgpu-cpu, ILGPU's slow debugging device).",
        };
        var command = new Command("train", "Train a network and write TensorBoard logs and checkpoints.")
        {
            model, dataset, noDownload, dataDir, accelerator, steps, epochs, batchSize, lr, lrSchedule, warmupSteps, optimizer, activation, distort, logdir, seed, checkpointEvery, logEvery, imageEvery, resume, noCharts,
            top9Maps, top9Images, testImages, imageScale,
        };
        command.SetAction(parse =>
        {
            // Checked here rather than in a command validator: validators run before option defaults are applied.
            var problems = new List<string>();
            var result = new { AddError = (Action<string>)problems.Add };

            if (parse.GetValue(activation) == "both" && parse.GetValue(model) != "lenet5") result.AddError("--activation both compares LeNet-5 runs; add --model lenet5.");
            List<int> maps = [];
            if (parse.GetValue(top9Maps) != "none" && !TryParseIndices(parse.GetValue(top9Maps)!, out maps))
                result.AddError($"--top9-maps must be comma-separated feature maps such as 0,1,2,3 (or none), not '{parse.GetValue(top9Maps)}'.");
            int? scale = null;
            if (parse.GetValue(imageScale) is { } scaleText && scaleText != "auto")
            {
                if (int.TryParse(scaleText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int factor)) scale = factor;
                else result.AddError($"--image-scale must be auto or a whole factor from 1 to {TrainerOptions.MaxImageScale}, not '{scaleText}'.");
            }
            var kind = TrainerModels.Get(parse.GetValue(model));
            // The run's options, checked in the one place the trainer checks them, before any data is loaded.
            // No --logdir yet is an empty log directory (the run's own is chosen once the data set is known).
            var planned = new TrainerOptions(parse.GetValue(logdir) ?? "")
            {
                Model = kind.Name, Steps = parse.GetValue(steps), Epochs = parse.GetValue(epochs),
                LearningRate = parse.GetValue(lr), WarmupSteps = parse.GetValue(warmupSteps),
                LearningRateSchedule = parse.GetValue(lrSchedule) switch { "cosine" => LearningRateSchedule.Cosine, "constant" => LearningRateSchedule.Constant, _ => null },
                Optimizer = parse.GetValue(optimizer) == "sgd" ? OptimizerKind.Sgd : OptimizerKind.Adam,
                Distort = parse.GetValue(distort), Seed = parse.GetValue(seed), CheckpointEvery = parse.GetValue(checkpointEvery),
                LogEvery = parse.GetValue(logEvery), ImageEvery = parse.GetValue(imageEvery), Resume = parse.GetValue(resume),
                Top9Maps = maps, Top9Images = parse.GetValue(top9Images), TestImages = parse.GetValue(testImages), ImageScale = scale,
                Charts = defaults.Charts && !parse.GetValue(noCharts),
            };
            if (parse.GetValue(batchSize) is { } requestedBatch) planned = planned with { BatchSize = requestedBatch };
            problems.AddRange(planned.Problems());
            if (problems.Count > 0)
            {
                foreach (string problem in problems) error.WriteLine($"error: {problem}");
                return UsageError;
            }
            Cifar10Archive? download = null;
            if (!parse.GetValue(noDownload) && !TryCifarArchive(error, out download)) return UsageError;
            if (!TryLoadData(parse.GetValue(dataset)!, parse.GetValue(dataDir)!, kind, output, error, out var data, download, parse.GetValue(noDownload), cancellationToken)) return MissingInput;
            if (!TryCreateAccelerator(parse.GetValue(accelerator)!, output, error, out var acc)) return MissingInput;
            using (acc)
            {
                // ILGPU's CPU accelerator runs a 256-lane group on 256 OS threads that meet at every barrier: a LeNet-5 step of
                // 128 takes about a minute there. Smaller defaults keep a check run in minutes, and say so.
                int? batch = parse.GetValue(batchSize), testCount = parse.GetValue(testImages);
                if (parse.GetValue(accelerator) == "ilgpu-cpu")
                {
                    var smaller = new List<string>();
                    if (batch is null) smaller.Add($"batches of {batch = IlgpuCpuBatchSize}");
                    if (testCount is null && data.Test.Count > IlgpuCpuTestImages) smaller.Add($"test accuracy on the first {testCount = IlgpuCpuTestImages} of {data.Test.Count} test images");
                    if (smaller.Count > 0)
                        output.WriteLine($"ilgpu-cpu is ILGPU's debugging device (its kernels run about 1000x slower than on cpu or opencl): {string.Join(", ", smaller)}; --batch-size and --test-images change that.");
                }
                string run = parse.GetValue(logdir) ?? Path.Combine("runs", $"{parse.GetValue(model)}-{data.Name}-{DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
                // "both" trains ReLU then sigmoid into sibling runs, so one `tensorboard --logdir <run>` shows them side by side.
                string[] activations = parse.GetValue(activation) == "both" ? ["relu", "sigmoid"] : [parse.GetValue(activation)!];
                foreach (string name in activations)
                {
                    var options = planned with
                    {
                        LogDirectory = activations.Length > 1 ? Path.Combine(run, name) : run, DatasetName = data.Name,
                        Activation = name == "sigmoid" ? Activation.Sigmoid : Activation.Relu, TestImages = testCount,
                    };
                    if (batch is { } size) options = options with { BatchSize = size };
                    int code = Train(console, output, error, acc, options, data, cancellationToken);
                    if (code != 0 || cancellationToken.IsCancellationRequested) return code;
                }
                if (activations.Length > 1 && planned.Charts) DrawComparison(run, output);
                return 0;
            }
        });
        return command;
    }

    // ", cosine schedule after 100 warm-up steps"; nothing for a constant rate without warm-up.
    private static string Describe(Training.Trainer trainer) => (trainer.LearningRateSchedule, trainer.WarmupSteps) switch
    {
        (LearningRateSchedule.Constant, 0) => "",
        (var schedule, 0) => $", {schedule.ToString().ToLowerInvariant()} schedule",
        (var schedule, var warmup) => $", {schedule.ToString().ToLowerInvariant()} schedule after {warmup} warm-up steps",
    };

    private static int Train(IAnsiConsole console, TextWriter output, TextWriter error, Accelerator accelerator, TrainerOptions options, LoadedData data, CancellationToken cancellationToken)
    {
        Training.Trainer trainer;
        try
        {
            trainer = new Training.Trainer(accelerator, options, data.Train, data.Test);
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        using (trainer)
        {
            output.WriteLine($"model {options.Model} on {data.Name} ({data.Train.Count} training, {data.Test.Count} test images {data.Train.ImageShape}); " +
                             $"{trainer.TotalSteps} steps of {options.BatchSize}, {options.Optimizer.ToString().ToLowerInvariant()} lr {trainer.BaseLearningRate.ToString("G3", CultureInfo.InvariantCulture)}{Describe(trainer)}{(trainer.Step > 0 ? $", resuming at step {trainer.Step}" : "")}; logs in {options.LogDirectory}");
            TrainingResult? result = null;
            static string Line(TrainingProgress p) =>
                string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps}  loss {p.Loss:F4}  accuracy {p.Accuracy:P1}  {p.ImagesPerSecond:F0} images/s");
            if (!console.Profile.Capabilities.Interactive)
            {
                // A file or a pipe: one plain line per logged step, nothing redrawn.
                result = trainer.Run(new InlineProgress(p => output.WriteLine(Line(p))), cancellationToken);
            }
            else console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask($"step {trainer.Step}/{trainer.TotalSteps}", maxValue: trainer.TotalSteps);
                    task.Value = trainer.Step;
                    result = trainer.Run(new InlineProgress(p =>
                    {
                        task.Value = p.Step;
                        task.Description = Line(p);
                    }), cancellationToken);
                    task.Value = result.Step;
                });
            var r = result!;
            var table = new Table().AddColumn("").AddColumn(r.Cancelled ? "stopped early" : "done");
            if (!console.Profile.Capabilities.Interactive) table.Border(TableBorder.Ascii);
            table.AddRow("steps", $"{r.Step}{(r.ResumedFrom > 0 ? $" (resumed from {r.ResumedFrom})" : "")}");
            table.AddRow("last batch loss", r.Loss.ToString("F4", CultureInfo.InvariantCulture));
            table.AddRow("test accuracy", $"{r.TestAccuracy.ToString("P2", CultureInfo.InvariantCulture)} on {(r.TestImages == data.Test.Count ? "all" : $"the first {r.TestImages} of")} {data.Test.Count} test images");
            table.AddRow("training time", $"{r.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s, {r.ImagesPerSecond.ToString("F0", CultureInfo.InvariantCulture)} images/s");
            table.AddRow("logs", Markup.Escape($"{options.LogDirectory} (tensorboard --logdir {options.LogDirectory})"));
            table.AddRow("checkpoint", Markup.Escape(r.Checkpoint));
            if (r.Charts is { } charts) table.AddRow("charts", Markup.Escape(DescribeCharts(charts, output)));
            console.Write(table);
            return 0;
        }
    }

    private static Command EvaluateCommand(TextWriter output, TextWriter error)
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint file, or a run's log directory (its latest checkpoint).", Required = true };
        var dataset = DatasetOption();
        var dataDir = DataDirOption();
        var accelerator = AcceleratorOption();
        var batchSize = new Option<int>("--batch-size") { Description = "Examples per evaluation batch.", DefaultValueFactory = _ => TrainerOptions.Defaults.EvalBatchSize };
        var command = new Command("evaluate", "Accuracy on the whole test set from a checkpoint.") { checkpoint, dataset, dataDir, accelerator, batchSize };
        command.SetAction(parse =>
        {
            // Checked where the trainer checks it, as in train.
            if ((TrainerOptions.Defaults with { EvalBatchSize = parse.GetValue(batchSize) }).Problems() is { Count: > 0 } problems)
            {
                foreach (string problem in problems) error.WriteLine($"error: {problem}");
                return UsageError;
            }
            if (!TryFindCheckpoint(parse.GetValue(checkpoint)!, error, out string file)) return MissingInput;
            var saved = Checkpoint.Load(file);
            var kind = CheckpointModel(saved);
            if (!TryLoadData(CheckpointDataset(saved, parse.GetValue(dataset)!), parse.GetValue(dataDir)!, kind, output, error, out var data)) return MissingInput;
            if (!TryCreateAccelerator(parse.GetValue(accelerator)!, output, error, out var acc)) return MissingInput;
            using (acc)
            {
                var input = kind.Inputs(data.Test.ImageShape, distort: false).Test;
                using Module? model = LoadModel(saved, file, kind, input, data, acc, error);
                if (model is null) return UsageError;
                float accuracy = Training.Trainer.Evaluate(model, acc, data.Test, input, parse.GetValue(batchSize));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{file} (step {saved.Step}): test accuracy {accuracy:P2} on all {data.Test.Count} {data.Name} test images"));
                return 0;
            }
        });
        return command;
    }

    private static Command DevicesCommand(TextWriter output)
    {
        var command = new Command("devices", "List the accelerators found and why any backend is missing.");
        command.SetAction(_ =>
        {
            using var context = Context.CreateDefault();
            output.Write(context.Describe());
            DescribeIlgpu(output);
            var preferred = context.GetPreferredDevice(preferCPU: false);
            output.WriteLine(preferred.UnusableReason is not null && IlgpuAvailable
                ? $"auto picks: ilgpu-cuda ({preferred.Name} has no NVRTC route: {preferred.UnusableReason})"
                : $"auto picks: {preferred.Name}");
            return 0;
        });
        return command;
    }

    /// <summary>A checkpoint file, or the latest checkpoint of a run directory (or of its checkpoints/ folder).</summary>
    private static bool TryFindCheckpoint(string path, TextWriter error, out string file)
    {
        file = (File.Exists(path) ? path
            : Directory.Exists(path) ? (new CheckpointDirectory(Directory.Exists(Path.Combine(path, "checkpoints")) ? Path.Combine(path, "checkpoints") : path).Latest()?.Path)
            : null)!;
        if (file is not null) return true;
        error.WriteLine($"error: no checkpoint at '{path}': give a checkpoint-<step>.safetensors file or a run directory holding checkpoints/.");
        return false;
    }

    /// <summary>The model a checkpoint was trained as (its <c>model</c> setting; the deconv tutorial's when it has none).</summary>
    private static ITrainerModel CheckpointModel(Checkpoint saved) =>
        TrainerModels.Find(saved.Settings.GetValueOrDefault("model")) ?? TrainerModels.Get(TrainerModels.DefaultName);

    /// <summary>--dataset, where "auto" means the data set the checkpoint was trained on.</summary>
    private static string CheckpointDataset(Checkpoint saved, string dataset) =>
        dataset == "auto" && saved.Settings.TryGetValue("dataset", out var trained) && trained.Length > 0 ? trained : dataset;

    /// <summary>The checkpoint's network with its weights, or null (and a message) when they do not fit the data's shapes.</summary>
    private static Module? LoadModel(Checkpoint saved, string file, ITrainerModel kind, Preprocess input, LoadedData data, Accelerator acc, TextWriter error)
    {
        var activation = saved.Settings.GetValueOrDefault("activation") == nameof(Activation.Sigmoid) ? Activation.Sigmoid : Activation.Relu;
        var model = kind.Create(acc, new ModelSetup(input.Output, data.Test.ClassNames.Count, activation, Seed: 1));
        try
        {
            model.ImportParameters(saved.Parameters.ToDictionary(p => p.Key, p => new HostArray(p.Value.Shape, ((HostTensor<float>)p.Value).Data), StringComparer.Ordinal));
            return model;
        }
        catch (ArgumentException e)
        {
            model.Dispose();
            error.WriteLine($"error: {file} does not fit {kind.CheckpointName} on {data.Name}: {e.Message}");
            return null;
        }
    }

    private sealed record LoadedData(string Name, Dataset Train, Dataset Test);

    /// <summary>
    /// Loads --dataset from --data-dir; "auto" for the CIFAR net downloads <paramref name="download"/> there first when the
    /// CIFAR-10 files are missing (null: no attempt; <paramref name="noDownload"/> says that --no-download is why).
    /// </summary>
    private static bool TryLoadData(string dataset, string dataDir, ITrainerModel model, TextWriter output, TextWriter error, out LoadedData data,
        Cifar10Archive? download = null, bool noDownload = false, CancellationToken cancellationToken = default)
    {
        data = null!;
        string? cifar = Directory.Exists(dataDir) ? Cifar10.FindDirectory(dataDir) : null;
        if (dataset == "auto")
        {
            string? failure = null;
            bool downloaded = false;
            if (cifar is null && model.TakesCifar10 && download is not null)
            {
                output.WriteLine($"dataset: no CIFAR-10 files (cifar-10-batches-bin) under '{dataDir}'; downloading {download.Url}");
                try
                {
                    var bar = new DownloadProgressBar(output, "CIFAR-10", inPlace: ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);
                    cifar = Cifar10.EnsureDownloadedAsync(dataDir, bar, archive: download, cancellationToken: cancellationToken).GetAwaiter().GetResult();
                    downloaded = true;
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    failure = e.Message;
                }
                catch (OperationCanceledException)
                {
                    error.WriteLine("error: the CIFAR-10 download was cancelled.");
                    return false;
                }
            }
            if (cifar is not null && model.TakesCifar10)
            {
                dataset = "cifar10";
                output.WriteLine(downloaded ? $"dataset: CIFAR-10, downloaded into {cifar}" : $"dataset: CIFAR-10, found in {cifar}");
            }
            else
            {
                dataset = "fashion-mnist";
                string missing = $"no CIFAR-10 files (cifar-10-batches-bin) are under '{dataDir}'";
                output.WriteLine(!model.TakesCifar10 ? $"dataset: Fashion-MNIST ({model.Name} takes gray 28x28 images)"
                    : failure is not null ? $"dataset: Fashion-MNIST, because {missing} and the download failed: {failure}"
                    : $"dataset: Fashion-MNIST, because {missing}{(noDownload ? " (--no-download)" : "")}");
            }
        }
        try
        {
            data = dataset switch
            {
                "cifar10" => cifar is null
                    ? throw new DirectoryNotFoundException($"no CIFAR-10 files under '{dataDir}': put data_batch_1.bin ... data_batch_5.bin, test_batch.bin (cifar-10-batches-bin from https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz) in '{dataDir}' or '{Path.Combine(dataDir, Cifar10.ArchiveFolder)}'")
                    : new LoadedData("cifar10", Cifar10.Load(cifar, DatasetSplit.Train), Cifar10.Load(cifar, DatasetSplit.Test)),
                "fashion-mnist" => LoadFashion(dataDir),
                _ => new LoadedData("mnist", Mnist.Load(MnistDirectory(dataDir), DatasetSplit.Train), Mnist.Load(MnistDirectory(dataDir), DatasetSplit.Test)),
            };
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // A missing file's message says where to put it; a damaged one (its message names it) is installed again.
            error.WriteLine($"error: cannot load {dataset}: {Sentence(e.Message)}{(e is InvalidDataException ? " " + DamagedDataAdvice : "")}");
            return false;
        }
    }

    /// <summary>
    /// The archive <c>train --dataset auto</c> downloads: the official one, or the one at <see cref="CifarUrlVariable"/>
    /// (checked against <see cref="CifarMd5Variable"/>, else the official MD5), waiting at most <see cref="DownloadConnectTimeout"/> for an answer.
    /// </summary>
    private static bool TryCifarArchive(TextWriter error, out Cifar10Archive? archive)
    {
        archive = null;
        var official = Cifar10Archive.Official;
        string? url = Environment.GetEnvironmentVariable(CifarUrlVariable), md5 = Environment.GetEnvironmentVariable(CifarMd5Variable);
        Uri? uri = official.Url;
        if (!string.IsNullOrEmpty(url) && !(Uri.TryCreate(url, UriKind.Absolute, out uri) && uri.Scheme is "http" or "https"))
        {
            error.WriteLine($"error: {CifarUrlVariable} is '{url}'; it must be an http or https URL of cifar-10-binary.tar.gz (or unset for {official.Url}).");
            return false;
        }
        if (!string.IsNullOrEmpty(md5) && !(md5.Length == 32 && md5.All(char.IsAsciiHexDigit)))
        {
            error.WriteLine($"error: {CifarMd5Variable} is '{md5}'; it must be 32 hexadecimal digits (the archive's MD5), or unset for the official {official.Md5}.");
            return false;
        }
        archive = new Cifar10Archive(uri!, string.IsNullOrEmpty(md5) ? official.Md5 : md5) { FirstByteTimeout = DownloadConnectTimeout };
        return true;
    }

    private static string MnistDirectory(string dataDir) => Directory.Exists(Path.Combine(dataDir, "mnist")) ? Path.Combine(dataDir, "mnist") : dataDir;

    private static LoadedData LoadFashion(string dataDir)
    {
        string local = Path.Combine(dataDir, "fashion-mnist");
        string? directory = Directory.Exists(local) ? local : null;
        return new LoadedData("fashion-mnist", FashionMnist.Load(DatasetSplit.Train, directory), FashionMnist.Load(DatasetSplit.Test, directory));
    }

    /// <summary>
    /// The accelerator <paramref name="kind"/> names, made by the library's one call for it
    /// (<see cref="Accelerators.Create(string, out string)"/>): cuda, opencl, cpu, ilgpu-cuda, ilgpu-opencl, ilgpu-cpu or
    /// auto. The accelerator owns its context. On failure, one line on <paramref name="error"/> says why and what to try.
    /// </summary>
    private static bool TryCreateAccelerator(string kind, TextWriter output, TextWriter error, out Accelerator accelerator)
    {
        accelerator = null!;
        if (kind.StartsWith("ilgpu-", StringComparison.Ordinal) && !IlgpuAvailable)
        {
            error.WriteLine($"error: no {kind} accelerator: this gpudeconv was built without ILGPU (-p:GpuDeconvIlgpu=false, or a trimmed publish); use cuda, opencl or cpu.");
            return false;
        }
        try
        {
            accelerator = Accelerators.Create(kind, out string description);
            output.WriteLine($"accelerator: {description}");
            return true;
        }
        catch (AcceleratorUnavailableException e)
        {
            error.WriteLine($"error: {e.Message}. Run 'gpudeconv devices' to see what is available, or use --accelerator auto.");
            return false;
        }
    }

    /// <summary>Reports on the training thread, so the progress bar sees every logged step in order.</summary>
    private sealed class InlineProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
