using System.Diagnostics;
using System.Formats.Tar;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class Cifar10DownloadTests
{
    private static readonly Lazy<(byte[] Archive, Dictionary<string, byte[]> Files)> Standard = new(() => CifarArchives.Build());

    [Fact]
    public async Task DownloadsChecksAndExtractsReportingProgress()
    {
        var (archive, files) = Standard.Value;
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();
        string root = temp["data"];
        var progress = new ProgressLog();

        string found = await Cifar10.EnsureDownloadedAsync(
            root, progress, archive: new Cifar10Archive(server.Url, CifarArchives.Md5(archive).ToUpperInvariant()), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(root, found);
        foreach (var (name, content) in files) Assert.Equal(content, File.ReadAllBytes(Path.Combine(root, name)));
        Assert.Equal(files.Keys.Order(), Directory.GetFileSystemEntries(root).Select(Path.GetFileName).Order());  // no temporary files left
        Assert.True(progress.Reports.Count >= 3, $"{progress.Reports.Count} progress reports");
        Assert.Equal(new DownloadProgress(0, archive.Length), progress.Reports[0]);
        Assert.Equal(new DownloadProgress(archive.Length, archive.Length), progress.Reports[^1]);
        Assert.Equal(1.0, progress.Reports[^1].Fraction);
        Assert.True(progress.Reports.Zip(progress.Reports.Skip(1)).All(p => p.First.BytesReceived < p.Second.BytesReceived));
        var subset = Cifar10.ReadBatchFile(Path.Combine(root, "test_batch.bin"));
        Assert.Equal([3, 4], subset.Labels.ToArray());
    }

    [Fact]
    public async Task FilesAlreadyThereNeedNoNetwork()
    {
        using var temp = new TempDirectory();
        foreach (string name in CifarArchives.BatchFiles) File.WriteAllBytes(temp[name], [1]);
        int port = LocalServer.FreePort();  // nothing listens there: any request would fail

        string found = await Cifar10.EnsureDownloadedAsync(
            temp.Path, archive: new Cifar10Archive(new Uri($"http://127.0.0.1:{port}/x.tar.gz"), "00"),
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(temp.Path, found);
    }

    [Fact]
    public async Task ChecksumMismatchLeavesNothingBehind()
    {
        var (archive, _) = Standard.Value;
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();
        string root = temp["data"];
        string wrong = "c32a1d4ab5d03f1284b67883e8d87530";

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Cifar10.EnsureDownloadedAsync(
            root, archive: new Cifar10Archive(server.Url, wrong), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains($"has MD5 {CifarArchives.Md5(archive)}, expected {wrong}; it was deleted", e.Message);
        Assert.Contains(server.Url.ToString(), e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }

    [Fact]
    public async Task ServerDownFailsFastSayingWhereToPutTheFiles()
    {
        using var temp = new TempDirectory();
        string root = temp["data"];
        var url = new Uri($"http://127.0.0.1:{LocalServer.FreePort()}/cifar-10-binary.tar.gz");
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<IOException>(() => Cifar10.EnsureDownloadedAsync(
            root, archive: new Cifar10Archive(url, "00"), cancellationToken: TestContext.Current.CancellationToken));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains($"could not download {url}", e.Message);
        Assert.Contains("data_batch_1.bin ... data_batch_5.bin, test_batch.bin and batches.meta.txt in " + root, e.Message);
        Assert.Contains("https://www.cs.toronto.edu/~kriz/cifar.html", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }

    [Fact]
    public async Task SilentServerTimesOutAfterTheFirstByteTimeout()
    {
        using var server = new LocalServer([], respond: false);
        using var temp = new TempDirectory();
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<IOException>(() => Cifar10.EnsureDownloadedAsync(
            temp["data"], archive: new Cifar10Archive(server.Url, "00") { FirstByteTimeout = TimeSpan.FromMilliseconds(300) },
            cancellationToken: TestContext.Current.CancellationToken));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains("no answer within 300 ms while connecting", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(temp["data"]));
    }

    [Fact]
    public async Task HttpErrorIsReported()
    {
        using var server = new LocalServer([], status: 404);
        using var temp = new TempDirectory();

        var e = await Assert.ThrowsAsync<IOException>(() => Cifar10.EnsureDownloadedAsync(
            temp["data"], archive: new Cifar10Archive(server.Url, "00"), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("the server answered 404 Not Found", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(temp["data"]));
    }

    [Fact]
    public async Task ConnectionCutShortIsReported()
    {
        var (archive, _) = Standard.Value;
        using var server = new LocalServer(archive, cutAfter: 100_000);
        using var temp = new TempDirectory();

        var e = await Assert.ThrowsAsync<IOException>(() => Cifar10.EnsureDownloadedAsync(
            temp["data"], archive: new Cifar10Archive(server.Url, CifarArchives.Md5(archive)), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("could not download", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(temp["data"]));
    }

    [Theory]
    [InlineData("cifar-10-batches-bin/../../evil.bin")]
    [InlineData("../evil.bin")]
    [InlineData("/tmp/evil.bin")]
    public async Task EntriesEscapingTheDirectoryAreRejected(string entryName)
    {
        var (archive, _) = CifarArchives.Build(tar =>
            tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, entryName) { DataStream = new MemoryStream([1, 2, 3]) }));
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();
        string root = temp["data"];

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Cifar10.EnsureDownloadedAsync(
            root, archive: new Cifar10Archive(server.Url, CifarArchives.Md5(archive)), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains($"entry '{entryName}' would be written outside {root}; nothing was extracted", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(root));
        Assert.False(File.Exists(temp["evil.bin"]));
    }

    [Fact]
    public async Task LinksInTheArchiveAreRejected()
    {
        var (archive, _) = CifarArchives.Build(tar =>
            tar.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, "cifar-10-batches-bin/link") { LinkName = "/etc/passwd" }));
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Cifar10.EnsureDownloadedAsync(
            temp["data"], archive: new Cifar10Archive(server.Url, CifarArchives.Md5(archive)), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("entry 'cifar-10-batches-bin/link' is a SymbolicLink entry, expected plain files only", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(temp["data"]));
    }

    [Fact]
    public async Task ArchiveThatIsNotATarGzIsRejected()
    {
        var noise = new byte[5000];
        new Random(3).NextBytes(noise);
        noise[0] = 0x1F;
        noise[1] = 0x8B;  // a gzip header's magic, then garbage
        using var server = new LocalServer(noise);
        using var temp = new TempDirectory();

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Cifar10.EnsureDownloadedAsync(
            temp["data"], archive: new Cifar10Archive(server.Url, CifarArchives.Md5(noise)), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("not a readable tar.gz archive", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(temp["data"]));
    }

    [Fact]
    public async Task ArchiveWithoutABatchFileIsReported()
    {
        var (archive, _) = CifarArchives.Build(omit: "data_batch_4.bin");
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Cifar10.EnsureDownloadedAsync(
            temp["data"], archive: new Cifar10Archive(server.Url, CifarArchives.Md5(archive)), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains($"the archive does not hold every batch file; missing from {temp["data"]}: data_batch_4.bin.", e.Message);
    }

    [Fact]
    public async Task FilesTheUserAlreadyHasAreKept()
    {
        var (archive, files) = Standard.Value;
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["test_batch.bin"], [42]);

        await Cifar10.EnsureDownloadedAsync(
            temp.Path, archive: new Cifar10Archive(server.Url, CifarArchives.Md5(archive)), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal([42], File.ReadAllBytes(temp["test_batch.bin"]));
        Assert.Equal(files["data_batch_3.bin"], File.ReadAllBytes(temp["data_batch_3.bin"]));
    }

    [Fact]
    public async Task CancellationStopsTheDownloadAndCleansUp()
    {
        using var server = new LocalServer([], respond: false);
        using var temp = new TempDirectory();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancel.CancelAfter(200);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Cifar10.EnsureDownloadedAsync(
            temp["data"], archive: new Cifar10Archive(server.Url, "00"), cancellationToken: cancel.Token));

        Assert.Empty(Directory.GetFileSystemEntries(temp["data"]));
    }

    /// <summary>Collects reports synchronously (Progress&lt;T&gt; would post them to the thread pool, out of order).</summary>
    private sealed class ProgressLog : IProgress<DownloadProgress>
    {
        public List<DownloadProgress> Reports { get; } = [];

        public void Report(DownloadProgress value)
        {
            lock (Reports) Reports.Add(value);
        }
    }
}
