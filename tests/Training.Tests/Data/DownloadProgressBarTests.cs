using Xunit;

namespace GpuDeconv.Training.Tests;

public sealed class DownloadProgressBarTests
{
    [Fact]
    public void FormatShowsBarPercentAndMegabytes()
    {
        string line = DownloadProgressBar.Format("cifar-10", new DownloadProgress(81_300_000, 162_600_000));
        Assert.Equal("cifar-10 [###############...............]  50% 81.3 / 162.6 MB", line);
        Assert.Equal("cifar-10 12.0 MB", DownloadProgressBar.Format("cifar-10", new DownloadProgress(12_000_000, null)));
    }

    [Fact]
    public void RedirectedOutputGetsOneLinePerTenth()
    {
        var output = new StringWriter();
        var bar = new DownloadProgressBar(output, "x", inPlace: false);
        for (long received = 0; received <= 1000; received += 7) bar.Report(new DownloadProgress(received, 1000));
        bar.Report(new DownloadProgress(1000, 1000));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(11, lines.Length);                 // 0%, 10%, ..., 100%
        Assert.EndsWith("100% 0.0 / 0.0 MB", lines[^1].TrimEnd());
    }

    [Fact]
    public void TerminalOutputRedrawsInPlaceAndEndsTheLine()
    {
        var output = new StringWriter();
        var bar = new DownloadProgressBar(output, "x", inPlace: true);
        bar.Report(new DownloadProgress(500, 1000));
        bar.Report(new DownloadProgress(1000, 1000));
        string text = output.ToString();
        Assert.StartsWith("\rx [", text);
        Assert.Equal(2, text.Count(c => c == '\r'));
        Assert.EndsWith(Environment.NewLine, text);
    }
}
