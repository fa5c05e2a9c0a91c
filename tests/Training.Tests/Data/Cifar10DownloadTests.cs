using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class Cifar10DownloadTests
{
    private static readonly string[] BatchFiles =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];

    private static readonly Lazy<(byte[] Archive, Dictionary<string, byte[]> Files)> Standard = new(() => BuildArchive());

    /// <summary>A tar.gz in the official layout (cifar-10-batches-bin/...) with small batch files; data_batch_1 is 1.5 MiB of noise so progress is reported more than once.</summary>
    private static (byte[] Archive, Dictionary<string, byte[]> Files) BuildArchive(Action<TarWriter>? extra = null, string? omit = null)
    {
        var random = new Random(5);
        var files = new Dictionary<string, byte[]>();
        foreach (string name in BatchFiles) files[name] = DataFiles.CifarRecords(2, r => r + 3);
        files["data_batch_1.bin"] = new byte[512 * 3073];
        random.NextBytes(files["data_batch_1.bin"]);
        for (int r = 0; r < 512; r++) files["data_batch_1.bin"][r * 3073] = (byte)(r % 10);
        files["batches.meta.txt"] = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n"u8.ToArray();
        files["readme.html"] = "<html></html>"u8.ToArray();
        if (omit is not null) files.Remove(omit);

        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            tar.WriteEntry(new UstarTarEntry(TarEntryType.Directory, "cifar-10-batches-bin/"));
            foreach (var (name, content) in files)
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/" + name) { DataStream = new MemoryStream(content) });
            extra?.Invoke(tar);
        }
        return (output.ToArray(), files);
    }

    private static string Md5(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));

    [Fact]
    public async Task DownloadsChecksAndExtractsReportingProgress()
    {
        var (archive, files) = Standard.Value;
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();
        string root = temp["data"];
        var progress = new ProgressLog();

        string found = await Cifar10.EnsureDownloadedAsync(
            root, progress, archive: new Cifar10Archive(server.Url, Md5(archive).ToUpperInvariant()), cancellationToken: TestContext.Current.CancellationToken);

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
        foreach (string name in BatchFiles) File.WriteAllBytes(temp[name], [1]);
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

        Assert.Contains($"has MD5 {Md5(archive)}, expected {wrong}; it was deleted", e.Message);
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
            temp["data"], archive: new Cifar10Archive(server.Url, Md5(archive)), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("could not download", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(temp["data"]));
    }

    [Theory]
    [InlineData("cifar-10-batches-bin/../../evil.bin")]
    [InlineData("../evil.bin")]
    [InlineData("/tmp/evil.bin")]
    public async Task EntriesEscapingTheDirectoryAreRejected(string entryName)
    {
        var (archive, _) = BuildArchive(tar =>
            tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, entryName) { DataStream = new MemoryStream([1, 2, 3]) }));
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();
        string root = temp["data"];

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Cifar10.EnsureDownloadedAsync(
            root, archive: new Cifar10Archive(server.Url, Md5(archive)), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains($"entry '{entryName}' would be written outside {root}; nothing was extracted", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(root));
        Assert.False(File.Exists(temp["evil.bin"]));
    }

    [Fact]
    public async Task LinksInTheArchiveAreRejected()
    {
        var (archive, _) = BuildArchive(tar =>
            tar.WriteEntry(new UstarTarEntry(TarEntryType.SymbolicLink, "cifar-10-batches-bin/link") { LinkName = "/etc/passwd" }));
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Cifar10.EnsureDownloadedAsync(
            temp["data"], archive: new Cifar10Archive(server.Url, Md5(archive)), cancellationToken: TestContext.Current.CancellationToken));

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
            temp["data"], archive: new Cifar10Archive(server.Url, Md5(noise)), cancellationToken: TestContext.Current.CancellationToken));

        Assert.Contains("not a readable tar.gz archive", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(temp["data"]));
    }

    [Fact]
    public async Task ArchiveWithoutABatchFileIsReported()
    {
        var (archive, _) = BuildArchive(omit: "data_batch_4.bin");
        using var server = new LocalServer(archive);
        using var temp = new TempDirectory();

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Cifar10.EnsureDownloadedAsync(
            temp["data"], archive: new Cifar10Archive(server.Url, Md5(archive)), cancellationToken: TestContext.Current.CancellationToken));

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
            temp.Path, archive: new Cifar10Archive(server.Url, Md5(archive)), cancellationToken: TestContext.Current.CancellationToken);

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

    /// <summary>
    /// An HttpListener on 127.0.0.1 and a free port serving one body for any path: normally, with an error status, cut
    /// off after some bytes, or never answering.
    /// </summary>
    private sealed class LocalServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public LocalServer(byte[] body, int status = 200, bool respond = true, int? cutAfter = null)
        {
            int port = FreePort();
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            Url = new Uri($"http://127.0.0.1:{port}/cifar-10-binary.tar.gz");
            _loop = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        var context = await _listener.GetContextAsync();
                        if (!respond) continue;  // holds the request open until the listener stops
                        var response = context.Response;
                        response.StatusCode = status;
                        if (status != 200)
                        {
                            response.Close();
                            continue;
                        }
                        response.ContentLength64 = body.Length;
                        await response.OutputStream.WriteAsync(body.AsMemory(0, cutAfter ?? body.Length));
                        if (cutAfter is null) response.Close();
                        else response.Abort();
                    }
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    // The listener stopped.
                }
            });
        }

        public Uri Url { get; }

        /// <summary>A port nothing listens on right now (the OS picks it for a listener that is closed at once).</summary>
        public static int FreePort()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            return port;
        }

        public void Dispose()
        {
            _listener.Abort();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
