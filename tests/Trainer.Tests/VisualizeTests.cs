using GpuDeconv.Compute;
using GpuDeconv.Training.Tests;
using Xunit;

namespace GpuDeconv.Trainer.Tests;

/// <summary>A one-step CIFAR-network checkpoint trained through the command line on tiny 28x28 gray MNIST files (the network adapts to 28x28x1), shared by the visualize tests.</summary>
public sealed class CifarRun : IDisposable
{
    private readonly TempDirectory _temp = new();

    public CifarRun()
    {
        ProgramTests.WriteMnist(_temp["data"], train: 4, test: 4);
        var train = ProgramTests.Run("train", "--model", "cifar-gap", "--dataset", "mnist", "--data-dir", _temp["data"], "--accelerator", "cpu",
            "--steps", "1", "--batch-size", "2", "--checkpoint-every", "0", "--image-every", "1000", "--logdir", _temp["run"]);
        Assert.True(train.ExitCode == 0, $"train exited {train.ExitCode}: {train.Error}\n{train.Output}");
    }

    public string this[string relative] => _temp[relative];

    public void Dispose() => _temp.Dispose();
}

/// <summary><c>visualize</c> from <see cref="CifarRun"/>'s checkpoint.</summary>
public sealed class VisualizeTests(CifarRun run) : IClassFixture<CifarRun>
{
    private readonly CifarRun _temp = run;

    [Theory]
    [InlineData("tutorial")]
    [InlineData("zeiler-fergus")]
    [InlineData("guided")]
    [InlineData("saliency")]
    public void WritesOneStitchedImagePerTestImageToTensorBoardAndPng(string variant)
    {
        string logdir = _temp["vis-" + variant];

        var outcome = ProgramTests.Run("visualize", "--checkpoint", _temp["run"], "--images", "0,2", "--variant", variant,
            "--data-dir", _temp["data"], "--accelerator", "cpu", "--logdir", logdir);

        Assert.True(outcome.ExitCode == 0, $"visualize exited {outcome.ExitCode}: {outcome.Error}\n{outcome.Output}");
        var values = Directory.GetFiles(logdir, "events.out.tfevents.*").SelectMany(f => EventFileReader.Read(f).Events)
            .Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Select(v => (e.Step, v))).ToList();
        Assert.Equal([$"visualize/{variant}/image/0", $"visualize/{variant}/image/2"], values.Select(v => v.v.Tag));
        foreach (var (step, value) in values)
        {
            Assert.Equal(1, step);
            // [input | layer 1 | layer 2], each 28x28 gray, enlarged 8 times (the shorter side to at least 200 pixels).
            Assert.Equal((224, 672, 1), (value.Image.Height, value.Image.Width, value.Image.Colorspace));
        }
        foreach (int index in new[] { 0, 2 })
        {
            string png = Path.Combine(logdir, $"visualize-{variant}-image-{index}-step-1.png");
            Assert.Contains(png, outcome.Output, StringComparison.Ordinal);
            var decoded = PngDecoder.Decode(File.ReadAllBytes(png));
            Assert.Equal((224, 672), (decoded.Height, decoded.Width));
        }
    }

    [Fact]
    public void DefaultsToTheCheckpointsRunDirectory()
    {
        var outcome = ProgramTests.Run("visualize", "--checkpoint", _temp["run"], "--images", "1", "--data-dir", _temp["data"], "--accelerator", "cpu");

        Assert.True(outcome.ExitCode == 0, $"visualize exited {outcome.ExitCode}: {outcome.Error}\n{outcome.Output}");
        Assert.True(File.Exists(_temp["run/visualize-tutorial-image-1-step-1.png"]), outcome.Output);
    }

    [Theory]
    [InlineData("0,x", "--images must be comma-separated")]
    [InlineData("9", "--images 9 is out of range: mnist has 4 test images")]
    public void BadImageIndicesExitWithOne(string images, string message)
    {
        var outcome = ProgramTests.Run("visualize", "--checkpoint", _temp["run"], "--images", images, "--data-dir", _temp["data"], "--accelerator", "cpu");

        Assert.Equal(Program.UsageError, outcome.ExitCode);
        Assert.Contains(message, outcome.Error, StringComparison.Ordinal);
    }
}

/// <summary><c>train</c> and <c>visualize</c> on the OpenCL accelerator (pocl on machines without a GPU).</summary>
public sealed class VisualizeOnOpenClTests
{
    [Fact]
    public void VisualizeWritesEveryVariantsImagesForAnOpenClCheckpoint()
    {
        ProgramTests.SkipUnlessPresent(AcceleratorType.OpenCL);
        using var temp = new TempDirectory();
        ProgramTests.WriteMnist(temp["data"], train: 4, test: 3);
        var train = ProgramTests.Run("train", "--model", "cifar-gap", "--dataset", "mnist", "--data-dir", temp["data"], "--accelerator", "opencl",
            "--steps", "1", "--batch-size", "2", "--checkpoint-every", "0", "--image-every", "1000", "--top9-maps", "0", "--logdir", temp["run"]);
        Assert.True(train.ExitCode == 0, $"train exited {train.ExitCode}: {train.Error}\n{train.Output}");
        Assert.Contains("accelerator: OpenCL", train.Output, StringComparison.Ordinal);
        // --top9-maps reaches the trainer: map 0's grids only, 3 test images in one row of [image | projection] cells.
        Assert.Equal(["top9-layer1-map0.png", "top9-layer2-map0.png"], Directory.GetFiles(temp["run"], "top9-*.png").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // Enlarged by --image-scale auto: 7 times brings the 30-pixel side past 200.
        var top9 = PngDecoder.Decode(File.ReadAllBytes(temp["run/top9-layer2-map0.png"]));
        Assert.Equal((7 * (28 + 2), 7 * (3 * (2 * 28 + 1) + 1)), (top9.Height, top9.Width));

        foreach (string variant in new[] { "tutorial", "zeiler-fergus", "guided", "saliency" })
        {
            string logdir = temp["vis-" + variant];
            var outcome = ProgramTests.Run("visualize", "--checkpoint", temp["run"], "--images", "2,0", "--variant", variant,
                "--data-dir", temp["data"], "--accelerator", "opencl", "--logdir", logdir, "--scale", "1");

            Assert.True(outcome.ExitCode == 0, $"visualize --variant {variant} exited {outcome.ExitCode}: {outcome.Error}\n{outcome.Output}");
            Assert.Contains("accelerator: OpenCL", outcome.Output, StringComparison.Ordinal);
            var values = Directory.GetFiles(logdir, "events.out.tfevents.*").SelectMany(f => EventFileReader.Read(f).Events)
                .Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Select(v => (e.Step, v))).ToList();
            Assert.Equal([$"visualize/{variant}/image/2", $"visualize/{variant}/image/0"], values.Select(v => v.v.Tag));
            foreach (var (step, value) in values)
            {
                Assert.Equal(1, step);
                Assert.Equal((28, 84, 1), (value.Image.Height, value.Image.Width, value.Image.Colorspace));
            }
            foreach (int index in new[] { 2, 0 })
            {
                var png = PngDecoder.Decode(File.ReadAllBytes(Path.Combine(logdir, $"visualize-{variant}-image-{index}-step-1.png")));
                Assert.Equal((28, 84), (png.Height, png.Width));
                // A reconstruction, not a blank: the layer panels (columns 28..83) are not all one value.
                var panels = Enumerable.Range(0, 28).SelectMany(y => png.Pixels.Skip(y * 84 + 28).Take(56)).ToList();
                Assert.True(panels.Distinct().Count() > 1, $"{variant} image {index}: the projection panels are uniform");
            }
        }
    }
}
