using GpuDeconv.Training;
using GpuDeconv.Training.Tests;
using SkiaSharp;
using Xunit;

namespace GpuDeconv.Trainer.Tests;

/// <summary><c>gpudeconv plot</c> and the charts <c>train</c> draws at the end.</summary>
public sealed class PlotTests
{
    private static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        Assert.InRange(new FileInfo(path).Length, 10_000, 1_000_000);
        using var bitmap = SKBitmap.Decode(path);
        Assert.True(bitmap is not null, $"{path} does not decode");
        Assert.Equal((TrainingCharts.DefaultWidth, TrainingCharts.DefaultHeight), (bitmap.Width, bitmap.Height));
    }

    private static void WriteRun(string directory, float decay)
    {
        using var writer = new SummaryWriter(directory);
        for (int step = 1; step <= 12; step++)
        {
            writer.AddScalar("loss", 2.3f * MathF.Exp(-decay * step), step);
            writer.AddScalar("accuracy", 1 - MathF.Exp(-decay * step), step);
        }
        writer.AddScalar("test/accuracy", 0.75f, 12);
    }

    [Fact]
    public void TrainWithBothActivationsDrawsEachRunsChartsAndTheirComparison()
    {
        using var temp = new TempDirectory();
        ProgramTests.WriteMnist(temp["data"], train: 8, test: 4);
        string run = temp["pair"];

        var outcome = ProgramTests.Run("train", "--model", "lenet5", "--activation", "both", "--dataset", "mnist", "--data-dir", temp["data"],
            "--accelerator", "cpu", "--steps", "4", "--batch-size", "2", "--log-every", "1", "--image-every", "100", "--checkpoint-every", "0", "--logdir", run);

        Assert.True(outcome.ExitCode == 0, outcome.Error);
        foreach (string folder in new[] { "relu", "sigmoid", "" })
        {
            AssertPng(Path.Combine(run, folder, TrainingCharts.LossFile));
            AssertPng(Path.Combine(run, folder, TrainingCharts.AccuracyFile));
        }
        Assert.Contains($"charts comparing relu and sigmoid: {Path.Combine(run, TrainingCharts.LossFile)}", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainWithNoChartsDrawsNone()
    {
        using var temp = new TempDirectory();
        ProgramTests.WriteMnist(temp["data"], train: 4, test: 2);

        var outcome = ProgramTests.Run("train", "--model", "lenet5", "--dataset", "mnist", "--data-dir", temp["data"], "--accelerator", "cpu",
            "--steps", "1", "--batch-size", "2", "--checkpoint-every", "0", "--no-charts", "--logdir", temp["run"]);

        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.False(File.Exists(Path.Combine(temp["run"], TrainingCharts.LossFile)));
        Assert.False(File.Exists(Path.Combine(temp["run"], TrainingCharts.AccuracyFile)));
        Assert.DoesNotContain("charts", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void PlotDrawsARunAndOverlaysSiblingRuns()
    {
        using var temp = new TempDirectory();
        WriteRun(temp["lenet/relu"], 0.3f);
        WriteRun(temp["lenet/sigmoid"], 0.1f);

        var single = ProgramTests.Run("plot", temp["lenet/relu"]);
        var pair = ProgramTests.Run("plot", temp["lenet"]);

        Assert.True(single.ExitCode == 0, single.Error);
        Assert.True(pair.ExitCode == 0, pair.Error);
        Assert.Equal($"wrote {temp["lenet/relu/loss.png"]}\nwrote {temp["lenet/relu/accuracy.png"]}\n", single.Output.ReplaceLineEndings("\n"));
        AssertPng(temp["lenet/relu/loss.png"]);
        AssertPng(temp["lenet/accuracy.png"]);
    }

    [Fact]
    public void PlotOfATornEventFileWarnsAndDrawsWhatIsThere()
    {
        using var temp = new TempDirectory();
        WriteRun(temp["run"], 0.2f);
        string file = Assert.Single(Directory.GetFiles(temp["run"]));
        byte[] bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..^3]);

        var outcome = ProgramTests.Run("plot", temp["run"]);

        Assert.True(outcome.ExitCode == 0, outcome.Error);
        Assert.StartsWith($"warning: {file}: the last record, at byte ", outcome.Output, StringComparison.Ordinal);
        AssertPng(temp["run/loss.png"]);
    }

    [Fact]
    public void PlotOfAMissingRunIsOneLine()
    {
        using var temp = new TempDirectory();

        var outcome = ProgramTests.Run("plot", temp["nope"]);

        FailureTests.AssertOneLine(outcome, Program.MissingInput, $"error: there is no run directory '{temp["nope"]}'. Give a run's log directory");
    }

    [Fact]
    public void PlotOfADirectoryWithoutEventFilesIsOneLine()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["notes.txt"], "no events here");

        var outcome = ProgramTests.Run("plot", temp.Path);

        FailureTests.AssertOneLine(outcome, Program.MissingInput, $"error: '{temp.Path}' holds no TensorBoard event files (events.out.tfevents.*), nor does any folder directly in it.");
    }

    [Fact]
    public void PlotOfADamagedEventFileIsOneLineNamingTheFile()
    {
        using var temp = new TempDirectory();
        WriteRun(temp["run"], 0.2f);
        string file = Assert.Single(Directory.GetFiles(temp["run"]));
        byte[] bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0x55;
        File.WriteAllBytes(file, bytes);

        var outcome = ProgramTests.Run("plot", temp["run"]);

        FailureTests.AssertOneLine(outcome, Program.MissingInput, $"error: {file}: record ");
        Assert.Contains("is damaged", outcome.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(temp["run/loss.png"]));
    }

    [Fact]
    public void PlotOfARunWithoutLossOrAccuracyIsOneLine()
    {
        using var temp = new TempDirectory();
        using (var writer = new SummaryWriter(temp.Path)) writer.AddScalar("learning_rate", 0.1f, 1);

        var outcome = ProgramTests.Run("plot", temp.Path);

        FailureTests.AssertOneLine(outcome, Program.MissingInput, $"error: no run under '{temp.Path}' logged loss or accuracy");
    }

    [Theory]
    [InlineData("--width", "99")]
    [InlineData("--height", "10001")]
    public void PlotRefusesChartSizesOutOfRange(string option, string value)
    {
        using var temp = new TempDirectory();

        var outcome = ProgramTests.Run("plot", temp.Path, option, value);

        FailureTests.AssertOneLine(outcome, Program.UsageError, "error: --width and --height must be 100 to 10000 pixels");
    }
}
