using System.Diagnostics;
using GpuDeconv.Training;
using GpuDeconv.Training.Tests;
using Xunit;

namespace GpuDeconv.Trainer.Tests;

/// <summary>The tests that set <see cref="Program.CifarUrlVariable"/>: run alone, since the variable is process-wide.</summary>
[CollectionDefinition(nameof(DownloadEnvironment), DisableParallelization = true)]
public sealed class DownloadEnvironment;

/// <summary><c>train --dataset auto</c> for the CIFAR net without CIFAR-10 files: download, fall back with the reason, or <c>--no-download</c>.</summary>
[Collection(nameof(DownloadEnvironment))]
public class DatasetDownloadTests
{
    /// <summary>Runs the command line with the download pointed at <paramref name="url"/> (and <paramref name="md5"/>), restoring the environment after.</summary>
    private static ProgramTests.Outcome RunWithArchive(string url, string? md5, params string[] args) => RunWithArchive(url, md5, new StringWriter(), args);

    private static ProgramTests.Outcome RunWithArchive(string url, string? md5, StringWriter output, params string[] args)
    {
        Environment.SetEnvironmentVariable(Program.CifarUrlVariable, url);
        Environment.SetEnvironmentVariable(Program.CifarMd5Variable, md5);
        try
        {
            var error = new StringWriter();
            int code = Program.Run(args, output, error, console: null, TestContext.Current.CancellationToken);
            return new ProgramTests.Outcome(code, output.ToString(), error.ToString());
        }
        finally
        {
            Environment.SetEnvironmentVariable(Program.CifarUrlVariable, null);
            Environment.SetEnvironmentVariable(Program.CifarMd5Variable, null);
        }
    }

    private static string[] Train(TempDirectory temp, params string[] extra) =>
        ["train", "--dataset", "auto", "--data-dir", temp["data"], "--accelerator", "cpu", "--steps", "1", "--batch-size", "2",
         "--checkpoint-every", "0", "--image-every", "1000", "--top9-images", "4", "--logdir", temp["run"], .. extra];

    [Fact]
    public void AutoDownloadsCifarWhenItsFilesAreMissingAndPicksIt()
    {
        // A small archive in the real layout: downloading, checking and extracting it is the real path, but its
        // 2-record test batch is not the 10,000 records Cifar10.Load insists on, so the run stops right after the
        // choice with the loader's message (a full-size set would cost a 10,000-image evaluation in a unit test).
        var (archive, files) = CifarArchives.Build();
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();

        var outcome = RunWithArchive(server.Url.ToString(), CifarArchives.Md5(archive), Train(temp));

        Assert.Equal(1, server.Requests);
        Assert.Contains($"dataset: no CIFAR-10 files (cifar-10-batches-bin) under '{temp["data"]}'; downloading {server.Url}", outcome.Output);
        // The progress bar (one line per 10% when the output is not a terminal) ends full.
        Assert.Contains("CIFAR-10 [" + new string('#', 30) + "] 100%", outcome.Output);
        Assert.Contains($"dataset: CIFAR-10, downloaded into {temp["data"]}", outcome.Output);
        foreach (string name in CifarArchives.BatchFiles) Assert.Equal(files[name], File.ReadAllBytes(Path.Combine(temp["data"], name)));
        Assert.Equal(Program.MissingInput, outcome.ExitCode);
        Assert.Contains("cannot load cifar10:", outcome.Error);
        Assert.Contains("expected 10000 records", outcome.Error);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AutoFallsBackToFashionMnistWithTheReasonWhenTheDownloadFails(bool silent)
    {
        // Nothing listens on a free port (an unreachable server); a silent one never answers (an offline network that drops packets).
        using var server = silent ? new LocalServer([], respond: false) : null;
        string url = server?.Url.ToString() ?? $"http://127.0.0.1:{LocalServer.FreePort()}/cifar-10-binary.tar.gz";
        using var temp = new TempDirectory();
        ProgramTests.WriteMnist(temp["data/fashion-mnist"], train: 4, test: 4);
        var output = new LineClock();

        var outcome = RunWithArchive(url, null, output, Train(temp, "--top9-maps", "none"));

        Assert.True(outcome.ExitCode == 0, $"train exited {outcome.ExitCode}: {outcome.Error}\n{outcome.Output}");
        Assert.Contains($"dataset: Fashion-MNIST, because no CIFAR-10 files (cifar-10-batches-bin) are under '{temp["data"]}' and the download failed: CIFAR-10: could not download {url}", outcome.Output);
        if (silent) Assert.Contains($"no answer within {Program.DownloadConnectTimeout.TotalMilliseconds:0} ms while connecting (offline?)", outcome.Output);
        Assert.Contains("model cifar-gap on fashion-mnist", outcome.Output);
        // Decided within the CLI's short timeout (with room for a busy machine), not the download library's default 15 s.
        var decided = output.Lines.First(l => l.Line.StartsWith("dataset: Fashion-MNIST", StringComparison.Ordinal)).Elapsed;
        Assert.True(decided < Program.DownloadConnectTimeout + TimeSpan.FromSeconds(3), $"fell back after {decided}");
        Assert.Equal(["fashion-mnist"], Directory.GetFileSystemEntries(temp["data"]).Select(Path.GetFileName));   // nothing left behind
        Assert.Empty(Directory.GetFiles(temp["run"], "top9-*.png"));
    }

    [Fact]
    public void NoDownloadNeverContactsTheServer()
    {
        var (archive, _) = CifarArchives.Build();
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();
        ProgramTests.WriteMnist(temp["data/fashion-mnist"], train: 4, test: 4);

        var outcome = RunWithArchive(server.Url.ToString(), CifarArchives.Md5(archive), Train(temp, "--no-download", "--top9-maps", "none"));

        Assert.True(outcome.ExitCode == 0, $"train exited {outcome.ExitCode}: {outcome.Error}\n{outcome.Output}");
        Assert.Equal(0, server.Requests);
        Assert.Contains($"dataset: Fashion-MNIST, because no CIFAR-10 files (cifar-10-batches-bin) are under '{temp["data"]}' (--no-download)", outcome.Output);
        Assert.DoesNotContain("downloading", outcome.Output);
    }

    /// <summary>An output writer that notes when each line was written, from its creation.</summary>
    private sealed class LineClock : StringWriter
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public List<(string Line, TimeSpan Elapsed)> Lines { get; } = [];

        public override void WriteLine(string? value)
        {
            lock (Lines) Lines.Add((value ?? "", _clock.Elapsed));
            base.WriteLine(value);
        }
    }

    [Theory]
    [InlineData("ftp://example.org/cifar.tar.gz", null, "GPUDECONV_CIFAR10_URL is 'ftp://example.org/cifar.tar.gz'; it must be an http or https URL")]
    [InlineData("http://127.0.0.1:1/cifar.tar.gz", "abc", "GPUDECONV_CIFAR10_MD5 is 'abc'; it must be 32 hexadecimal digits")]
    public void BadDownloadSettingsExitWithOne(string url, string? md5, string message)
    {
        using var temp = new TempDirectory();

        var outcome = RunWithArchive(url, md5, Train(temp));

        Assert.Equal(Program.UsageError, outcome.ExitCode);
        Assert.Contains(message, outcome.Error);
    }
}
