using SkiaSharp;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class TrainingChartsTests
{
    /// <summary>A run as <see cref="Trainer"/> logs it: loss, batch accuracy and learning rate every 10 steps, test accuracy once at the end.</summary>
    internal static void WriteRun(string directory, int points, float start, float decay)
    {
        using var writer = new SummaryWriter(directory);
        var random = new Random(7);
        for (int i = 1; i <= points; i++)
        {
            float loss = start * MathF.Exp(-decay * i) + 0.1f * random.NextSingle();
            writer.AddScalar("loss", loss, 10 * i);
            writer.AddScalar("accuracy", 1 - loss / (start + 1), 10 * i);
            writer.AddScalar("learning_rate", 0.001f, 10 * i);
        }
        writer.AddScalar("test/accuracy", 0.8f, 10 * points);
    }

    /// <summary>Decodes <paramref name="path"/> with SkiaSharp and checks it is a drawn chart: the size asked for, and more than a blank page.</summary>
    internal static SKBitmap AssertChart(string path, int width = TrainingCharts.DefaultWidth, int height = TrainingCharts.DefaultHeight)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        long size = new FileInfo(path).Length;
        Assert.InRange(size, 10_000, 1_000_000);
        var bitmap = SKBitmap.Decode(path);
        Assert.True(bitmap is not null, $"{path} does not decode as an image");
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        int colors = bitmap.Pixels.Distinct().Count();
        Assert.True(colors > 50, $"{path} holds {colors} colours: nothing much was drawn");
        return bitmap;
    }

    // How many pixels are close to a palette colour: the lines of that series were drawn.
    static int PixelsNear(SKBitmap bitmap, SKColor color) =>
        bitmap.Pixels.Count(p => Math.Abs(p.Red - color.Red) + Math.Abs(p.Green - color.Green) + Math.Abs(p.Blue - color.Blue) < 30);

    static readonly SKColor Blue = new(0x1f, 0x77, 0xb4), Orange = new(0xff, 0x7f, 0x0e), Green = new(0x2c, 0xa0, 0x2c);

    [Fact]
    public void DrawsLossAndAccuracyPngsOfARun()
    {
        using var dir = new TempDirectory();
        WriteRun(dir.Path, points: 40, start: 2.3f, decay: 0.08f);

        var charts = TrainingCharts.Draw(dir.Path);

        Assert.Equal([dir[TrainingCharts.LossFile], dir[TrainingCharts.AccuracyFile]], charts.Files);
        Assert.Equal([dir.Path], charts.Runs);
        Assert.Empty(charts.Warnings);
        using var loss = AssertChart(charts.Files[0]);
        using var accuracy = AssertChart(charts.Files[1]);
        // One run: train blue, test orange (the single end-of-run test accuracy as a marker).
        Assert.True(PixelsNear(loss, Blue) > 500, "the loss line is missing");
        Assert.True(PixelsNear(accuracy, Blue) > 500, "the training accuracy line is missing");
        Assert.True(PixelsNear(accuracy, Orange) > 50, "the test accuracy marker is missing");
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void OverlaysSiblingRunsInOneChartInTheirParent()
    {
        using var dir = new TempDirectory();
        WriteRun(dir["relu"], points: 30, start: 2.3f, decay: 0.15f);
        WriteRun(dir["sigmoid"], points: 30, start: 2.3f, decay: 0.03f);
        Directory.CreateDirectory(dir["not-a-run"]);

        var charts = TrainingCharts.Draw(dir.Path, 800, 500);

        Assert.Equal([dir["relu"], dir["sigmoid"]], charts.Runs);
        Assert.Equal([dir[TrainingCharts.LossFile], dir[TrainingCharts.AccuracyFile]], charts.Files);
        using var loss = AssertChart(charts.Files[0], 800, 500);
        // A colour per run: relu blue, sigmoid orange.
        Assert.True(PixelsNear(loss, Blue) > 300 && PixelsNear(loss, Orange) > 300, "both runs should be drawn");
        Assert.Equal(0, PixelsNear(loss, Green));
    }

    [Fact]
    public void ValuesThatAreNotFiniteAreLeftOutAndNamed()
    {
        using var dir = new TempDirectory();
        using (var writer = new SummaryWriter(dir.Path))
        {
            writer.AddScalar("loss", 1, 1);
            writer.AddScalar("loss", float.NaN, 2);
            writer.AddScalar("loss", float.PositiveInfinity, 3);
            writer.AddScalar("loss", 0.5f, 4);
        }

        var charts = TrainingCharts.Draw(dir.Path);

        Assert.Equal([dir[TrainingCharts.LossFile]], charts.Files);
        Assert.Equal($"{Path.GetFileName(dir.Path)} train loss: 2 values are NaN or infinite and not drawn.", Assert.Single(charts.Warnings));
        AssertChart(charts.Files[0]);
    }

    [Fact]
    public void ARunWithoutLossOrAccuracyGetsNoCharts()
    {
        using var dir = new TempDirectory();
        using (var writer = new SummaryWriter(dir.Path)) writer.AddScalar("learning_rate", 0.1f, 1);

        var charts = TrainingCharts.Draw(dir.Path);

        Assert.Empty(charts.Files);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.png"));
    }

    [Fact]
    public void AMissingDirectoryAndOneWithoutRunsSaySo()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir["empty/child"]);

        var missing = Assert.Throws<DirectoryNotFoundException>(() => TrainingCharts.Draw(dir["nope"]));
        var empty = Assert.Throws<FileNotFoundException>(() => TrainingCharts.Draw(dir["empty"]));

        Assert.Equal($"there is no run directory '{dir["nope"]}'.", missing.Message);
        Assert.Equal($"'{dir["empty"]}' holds no TensorBoard event files (events.out.tfevents.*), nor does any folder directly in it.", empty.Message);
    }

    [Fact]
    public void SmoothingIsTensorBoardsDebiasedMovingAverage()
    {
        // weight 0.6: s1 = 1; s2 = (0.6 * 0.4 * 1 + 0.4 * 2) / (1 - 0.36) = 1.625; s3 = (0.6 * 1.04 + 0.4 * 3) / (1 - 0.216).
        double[] smoothed = TrainingCharts.Smooth([1, 2, 3]);

        Assert.Equal(1, smoothed[0], 12);
        Assert.Equal(1.625, smoothed[1], 12);
        Assert.Equal((0.6 * 1.04 + 1.2) / 0.784, smoothed[2], 12);
        Assert.Equal([1.0, 2, 3], TrainingCharts.Smooth([1, 2, 3], weight: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingCharts.Smooth([1], weight: 1));
    }
}
