using GpuDeconv.Compute;
using GpuDeconv.Training;
using GpuDeconv.Training.Tests;
using Xunit;

namespace GpuDeconv.Trainer.Tests;

/// <summary>The command line run in-process through <see cref="Program.Run"/>: exit codes, messages and a tiny train/evaluate.</summary>
public class ProgramTests
{
    internal sealed record Outcome(int ExitCode, string Output, string Error);

    internal static Outcome Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, output, error, console: null, TestContext.Current.CancellationToken);
        return new Outcome(code, output.ToString(), error.ToString());
    }

    /// <summary>Tiny 28x28 MNIST IDX files (label = index % 10) in the standard names under <paramref name="directory"/>.</summary>
    internal static void WriteMnist(string directory, int train, int test)
    {
        Directory.CreateDirectory(directory);
        byte[] Labels(int n) => [.. Enumerable.Range(0, n).Select(i => (byte)(i % 10))];
        File.WriteAllBytes(Path.Combine(directory, "train-images-idx3-ubyte"), DataFiles.IdxImages(train, 28, 28, (i, p) => (byte)((p / 28 + i % 10 * 3) % 28 < 4 ? 255 : 0)));
        File.WriteAllBytes(Path.Combine(directory, "train-labels-idx1-ubyte"), DataFiles.IdxLabels(Labels(train)));
        File.WriteAllBytes(Path.Combine(directory, "t10k-images-idx3-ubyte"), DataFiles.IdxImages(test, 28, 28, (i, p) => (byte)((p % 28 + i) % 7 * 30)));
        File.WriteAllBytes(Path.Combine(directory, "t10k-labels-idx1-ubyte"), DataFiles.IdxLabels(Labels(test)));
    }

    [Theory]
    [InlineData(new[] { "train", "--no-such-option" }, "--no-such-option")]
    [InlineData(new[] { "train", "--model", "resnet" }, "resnet")]
    [InlineData(new[] { "train", "--batch-size", "0" }, "--batch-size must be positive, not 0")]
    [InlineData(new[] { "train", "--top9-maps", "0,x" }, "--top9-maps must be comma-separated feature maps such as 0,1,2,3 (or none), not '0,x'")]
    [InlineData(new[] { "train", "--top9-maps", "1,64" }, "--top9-maps 64 is out of range: layers 1 and 2 have 64 feature maps (0..63)")]
    [InlineData(new[] { "train", "--top9-maps", "2,2" }, "--top9-maps 2,2 lists a map twice")]
    [InlineData(new[] { "train", "--top9-images", "0" }, "--top9-images must be positive, not 0")]
    [InlineData(new[] { "train", "--warmup-steps", "-5" }, "--warmup-steps must be 0 or more, not -5")]
    [InlineData(new[] { "train", "--lr-schedule", "exponential" }, "exponential")]
    [InlineData(new[] { "train", "--image-scale", "0" }, "--image-scale must be auto or a whole factor from 1 to 32, not 0.")]
    [InlineData(new[] { "train", "--image-scale", "big" }, "--image-scale must be auto or a whole factor from 1 to 32, not 'big'.")]
    [InlineData(new[] { "evaluate" }, "--checkpoint")]
    [InlineData(new[] { "evaluate", "--checkpoint", "run", "--batch-size", "0" }, "evaluate --batch-size must be positive, not 0")]
    [InlineData(new[] { "train", "--resume" }, "--resume needs --logdir (the run to continue)")]
    [InlineData(new[] { "no-such-verb" }, "no-such-verb")]
    public void BadCommandLinesExitWithOneAndSayWhatIsWrong(string[] args, string named)
    {
        var outcome = Run(args);

        Assert.Equal(Program.UsageError, outcome.ExitCode);
        Assert.Contains(named, outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainHelpShowsTheImageScaleWithItsDefaultFromTrainerOptions()
    {
        var outcome = Run("train", "--help");

        Assert.Equal(0, outcome.ExitCode);
        // The option's block: from its name to the next option.
        var block = System.Text.RegularExpressions.Regex.Match(outcome.Output, @"--image-scale\b(?:(?!\n\s+-)[\s\S])*");
        Assert.True(block.Success, outcome.Output);
        Assert.Contains("[default: auto]", block.Value, StringComparison.Ordinal);
        Assert.Contains($"at least {TrainingSummaries.PanelShortSide} px", block.Value.ReplaceLineEndings(" "), StringComparison.Ordinal);
    }

    [Fact]
    public void MissingMnistFilesExitWithTwoAndNameWhereToPutThem()
    {
        using var temp = new TempDirectory();

        var outcome = Run("train", "--model", "lenet5", "--dataset", "mnist", "--data-dir", temp.Path, "--accelerator", "cpu");

        FailureTests.AssertOneLine(outcome, Program.MissingInput, "error: cannot load mnist: ");
        Assert.Contains("train-images-idx3-ubyte", outcome.Error, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(temp.Path), outcome.Error, StringComparison.Ordinal);
        Assert.Contains("Put the four IDX files", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingCifarFilesExitWithTwoAndNameWhereToPutThem()
    {
        using var temp = new TempDirectory();

        var outcome = Run("train", "--dataset", "cifar10", "--data-dir", temp.Path, "--accelerator", "cpu");

        FailureTests.AssertOneLine(outcome, Program.MissingInput, "error: ");
        Assert.Contains("data_batch_1.bin", outcome.Error, StringComparison.Ordinal);
        Assert.Contains(temp.Path, outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingCheckpointExitsWithTwo()
    {
        using var temp = new TempDirectory();

        var outcome = Run("evaluate", "--checkpoint", temp["nothing-here"]);

        FailureTests.AssertOneLine(outcome, Program.MissingInput, "error: ");
        Assert.Contains("no checkpoint at", outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void DevicesListsTheCpuAndSaysWhyCudaIsMissing()
    {
        var outcome = Run("devices");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("CPU", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("auto picks:", outcome.Output, StringComparison.Ordinal);
        using var context = Context.CreateDefault();
        if (context.Backends.FirstOrDefault(b => b.Type == AcceleratorType.Cuda) is { IsAvailable: false } cuda)
            Assert.Contains($"Cuda   unavailable: {cuda.Reason}", outcome.Output, StringComparison.Ordinal);
        else
            Assert.Contains("Cuda", outcome.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("opencl")]
    [InlineData("ilgpu-cpu")]
    public void TinyLeNetTrainsAndEvaluatesFromItsCheckpoint(string accelerator)
    {
        if (accelerator is "opencl" or "cuda") SkipUnlessPresent(accelerator == "opencl" ? AcceleratorType.OpenCL : AcceleratorType.Cuda);
        using var temp = new TempDirectory();
        WriteMnist(temp["data"], train: 8, test: 5);
        string logdir = temp["run"];
        // ILGPU's CPU accelerator is a debugging device: a 256-lane group is 256 OS threads meeting at every barrier, which
        // collapses when other tests share the cores (this row took 4 min 18 s in CI, 24 s alone). There it trains one
        // step of 2 images (so the images are logged once, at the end), and its checkpoint is evaluated on cpu: the same checks
        // (training runs on ilgpu-cpu; the checkpoint it wrote loads and the rebuilt model runs) with half the steps at half
        // the batch, and without compiling every forward kernel again on a second ilgpu-cpu accelerator.
        bool debugDevice = accelerator == "ilgpu-cpu";
        int steps = debugDevice ? 1 : 2;
        string evaluateOn = debugDevice ? "cpu" : accelerator;

        var train = Run("train", "--model", "lenet5", "--dataset", "mnist", "--data-dir", temp["data"], "--accelerator", accelerator,
            "--steps", $"{steps}", "--batch-size", debugDevice ? "2" : "4", "--log-every", "1", "--image-every", "1",
            "--checkpoint-every", "0", "--logdir", logdir);

        Assert.True(train.ExitCode == 0, $"train exited {train.ExitCode}: {train.Error}\n{train.Output}");
        Assert.Contains("test accuracy", train.Output, StringComparison.Ordinal);
        Assert.NotEmpty(Directory.GetFiles(logdir, "events.out.tfevents.*"));
        var checkpoint = Assert.Single(new CheckpointDirectory(Path.Combine(logdir, "checkpoints")).List());
        Assert.Equal(steps, checkpoint.Step);

        var evaluate = Run("evaluate", "--checkpoint", logdir, "--data-dir", temp["data"], "--accelerator", evaluateOn);

        Assert.True(evaluate.ExitCode == 0, $"evaluate exited {evaluate.ExitCode}: {evaluate.Error}\n{evaluate.Output}");
        Assert.Contains($"(step {steps}): test accuracy", evaluate.Output, StringComparison.Ordinal);
        Assert.Contains("on all 5 mnist test images", evaluate.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void LeNetWithBothActivationsWritesSiblingRunsWithTheFc2FeatureMapOfEachClass()
    {
        using var temp = new TempDirectory();
        // 12 test images labelled i % 10: classes 0 and 1 have two samples, 2..9 one.
        WriteMnist(temp["data"], train: 4, test: 12);
        string logdir = temp["run"];

        var train = Run("train", "--model", "lenet5", "--activation", "both", "--dataset", "mnist", "--data-dir", temp["data"], "--accelerator", "cpu",
            "--steps", "1", "--batch-size", "2", "--checkpoint-every", "0", "--image-scale", "3", "--logdir", logdir);

        Assert.True(train.ExitCode == 0, $"train exited {train.ExitCode}: {train.Error}\n{train.Output}");
        foreach (string activation in new[] { "relu", "sigmoid" })
        {
            string run = Path.Combine(logdir, activation);
            Assert.Equal(activation == "sigmoid" ? "Sigmoid" : "Relu",
                Checkpoint.Load(Assert.Single(new CheckpointDirectory(Path.Combine(run, "checkpoints")).List()).Path).Settings["activation"]);
            var images = Directory.GetFiles(run, "events.out.tfevents.*").SelectMany(f => EventFileReader.Read(f).Events)
                .Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value).Where(v => v.Tag.StartsWith("fc2/class/", StringComparison.Ordinal)).ToList();
            Assert.Equal(Enumerable.Range(0, 10).Select(k => $"fc2/class/{k}"), images.Select(v => v.Tag));
            for (int k = 0; k < 10; k++)
            {
                // [samples x 84], enlarged 3 times by --image-scale.
                int samples = k < 2 ? 2 : 1;
                Assert.Equal((3 * samples, 3 * 84, 1), (images[k].Image.Height, images[k].Image.Width, images[k].Image.Colorspace));
                var png = PngDecoder.Decode(File.ReadAllBytes(Path.Combine(run, $"fc2-class-{k}.png")));
                Assert.Equal((3 * samples, 3 * 84), (png.Height, png.Width));
                // Min-max normalised over the image: the smallest feature is black and the largest white.
                Assert.Equal((0, 255), (png.Pixels.Min(), png.Pixels.Max()));
            }
        }
    }

    [Fact]
    public void BothActivationsIsOnlyForLeNet()
    {
        var outcome = Run("train", "--model", "cifar-gap", "--activation", "both");

        Assert.Equal(Program.UsageError, outcome.ExitCode);
        Assert.Contains("--activation both compares LeNet-5 runs", outcome.Error, StringComparison.Ordinal);
    }

    /// <summary>Skips (visibly, with the backend's reason) when the machine has no device of <paramref name="type"/>.</summary>
    internal static void SkipUnlessPresent(AcceleratorType type)
    {
        using var context = Context.CreateDefault();
        if (context.Devices.Any(d => d.AcceleratorType == type)) return;
        string reason = context.Backends.FirstOrDefault(b => b.Type == type)?.Reason ?? "the backend found no device";
        Assert.Skip($"{type} accelerator unavailable: {reason}");
    }
}
