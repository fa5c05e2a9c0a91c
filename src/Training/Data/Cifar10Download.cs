using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace GpuDeconv.Training;

public static partial class Cifar10
{
    private const int ProgressStep = 1 << 20;

    /// <summary>
    /// Makes sure the CIFAR-10 binary files are in <paramref name="directory"/> and returns the folder holding them: when
    /// they are missing, downloads the archive to a temporary file, checks its MD5, and extracts the files into
    /// <paramref name="directory"/> (files already there are kept). Nothing is left behind when any step fails.
    /// </summary>
    /// <param name="directory">The folder for the <c>.bin</c> files (created if needed); a <c>cifar-10-batches-bin</c> subfolder already holding them is accepted.</param>
    /// <param name="progress">Receives the bytes received and the total, at least once per MiB and at the end.</param>
    /// <param name="client">The HTTP client to use; by default a private one with no overall timeout.</param>
    /// <param name="archive">Where to download from and the checksum; by default <see cref="Cifar10Archive.Official"/>.</param>
    /// <param name="cancellationToken">Cancels the download; the temporary files are deleted.</param>
    /// <exception cref="IOException">The server could not be reached, answered with an error, stalled, or the connection broke; the message says where to put the files by hand.</exception>
    /// <exception cref="InvalidDataException">The download has the wrong MD5, is not a readable tar.gz, holds an entry that would land outside the directory or is not a plain file, or lacks a batch file.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<string> EnsureDownloadedAsync(
        string directory, IProgress<DownloadProgress>? progress = null, HttpClient? client = null,
        Cifar10Archive? archive = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        archive ??= Cifar10Archive.Official;
        if (FindDirectory(directory) is { } existing) return existing;

        string root = Path.GetFullPath(directory);
        Directory.CreateDirectory(root);
        // Temporary names start with a dot and carry a random part, so two processes never share one and a user
        // listing the folder sees what a killed process left (the OS does not clean the data folder).
        string token = Guid.NewGuid().ToString("N")[..12];
        string archivePath = Path.Combine(root, $".cifar-10-binary.tar.gz.{token}.part");
        string staging = Path.Combine(root, $".cifar-10-extract.{token}");
        try
        {
            await DownloadAsync(archive, archivePath, root, progress, client, cancellationToken).ConfigureAwait(false);
            await ExtractAsync(archivePath, staging, root, cancellationToken).ConfigureAwait(false);
            MoveMissingFiles(staging, root);
        }
        finally
        {
            TryDelete(() => File.Delete(archivePath));
            TryDelete(() => { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); });
        }

        return FindDirectory(root) ?? throw new InvalidDataException(
            $"{archive.Url}: the archive does not hold every batch file; missing from {root}: " +
            $"{string.Join(", ", FileNames(DatasetSplit.Train).Concat(FileNames(DatasetSplit.Test)).Where(f => !File.Exists(Path.Combine(root, f))))}. {WhereToPutFiles(root)}");
    }

    /// <summary>Streams the archive into <paramref name="path"/>, hashing on the way, and throws unless the MD5 matches.</summary>
    private static async Task DownloadAsync(
        Cifar10Archive archive, string path, string root, IProgress<DownloadProgress>? progress, HttpClient? client,
        CancellationToken cancellationToken)
    {
        HttpClient http = client ?? new HttpClient(new SocketsHttpHandler { ConnectTimeout = archive.FirstByteTimeout })
        {
            Timeout = Timeout.InfiniteTimeSpan,  // the per-phase timeouts below replace the overall one
        };
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long received = 0;
        long? total = null;
        string phase = "connecting";
        try
        {
            timeout.CancelAfter(archive.FirstByteTimeout);
            using var response = await http.GetAsync(archive.Url, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                throw DownloadFailed(archive, root, $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}", null);
            total = response.Content.Headers.ContentLength;
            progress?.Report(new DownloadProgress(0, total));

            phase = "reading";
            await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            var buffer = new byte[1 << 16];
            long reported = 0;
            while (true)
            {
                timeout.CancelAfter(archive.ReadTimeout);
                int read = await body.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
                if (read == 0) break;
                md5.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                received += read;
                if (received - reported >= ProgressStep)
                {
                    progress?.Report(new DownloadProgress(received, total));
                    reported = received;
                }
            }
            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (reported != received) progress?.Report(new DownloadProgress(received, total));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var limit = phase == "connecting" ? archive.FirstByteTimeout : archive.ReadTimeout;
            throw DownloadFailed(archive, root, $"no answer within {limit.TotalMilliseconds:0} ms while {phase} (offline?)", null);
        }
        catch (HttpRequestException e)
        {
            throw DownloadFailed(archive, root, e.Message, e);
        }
        catch (HttpIOException e)
        {
            throw DownloadFailed(archive, root, $"the connection broke after {received} bytes ({e.Message})", e);
        }
        finally
        {
            if (client is null) http.Dispose();
        }

        if (total is { } expected && received != expected)
            throw DownloadFailed(archive, root, $"received {received} of {expected} bytes", null);
        string actual = Convert.ToHexStringLower(md5.GetHashAndReset());
        if (!actual.Equals(archive.Md5, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException(
                $"{archive.Url}: the download ({received} bytes) has MD5 {actual}, expected {archive.Md5.ToLowerInvariant()}; it was deleted. " +
                $"The server may serve a different or damaged file. {WhereToPutFiles(root)}");
    }

    private static IOException DownloadFailed(Cifar10Archive archive, string root, string reason, Exception? inner) =>
        new($"CIFAR-10: could not download {archive.Url}: {reason}. {WhereToPutFiles(root)}", inner);

    /// <summary>
    /// Extracts every plain file of the archive into <paramref name="staging"/>, dropping the leading
    /// <c>cifar-10-batches-bin/</c>; an entry that would land outside, or a link or device, aborts the whole extraction.
    /// </summary>
    private static async Task ExtractAsync(string archivePath, string staging, string root, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(staging);
        string stagingPrefix = Path.GetFullPath(staging) + Path.DirectorySeparatorChar;
        await using var file = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using var gzip = new GZipStream(file, CompressionMode.Decompress);
        await using var tar = new TarReader(gzip);
        while (await ReadArchive(archivePath, () => tar.GetNextEntryAsync(copyData: false, cancellationToken).AsTask()).ConfigureAwait(false) is { } entry)
        {
            if (entry.EntryType is TarEntryType.GlobalExtendedAttributes) continue;
            string relative = RelativeEntryPath(entry.Name);
            string target = Path.GetFullPath(Path.Combine(staging, relative));
            bool isFolderItself = target + Path.DirectorySeparatorChar == stagingPrefix;  // "cifar-10-batches-bin/", "./"
            if (Path.IsPathRooted(relative) || !isFolderItself && !target.StartsWith(stagingPrefix, StringComparison.Ordinal))
                throw new InvalidDataException($"{archivePath}: entry '{entry.Name}' would be written outside {root}; nothing was extracted.");
            if (entry.EntryType is TarEntryType.Directory || isFolderItself) continue;
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
                throw new InvalidDataException(
                    $"{archivePath}: entry '{entry.Name}' is a {entry.EntryType} entry, expected plain files only; nothing was extracted.");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await using var output = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            if (entry.DataStream is { } data)
                await ReadArchive(archivePath, async () => { await data.CopyToAsync(output, cancellationToken).ConfigureAwait(false); return 0; }).ConfigureAwait(false);
        }
    }

    /// <summary>Runs one read of the archive, turning the decoders' errors into one naming the file.</summary>
    private static async Task<T> ReadArchive<T>(string archivePath, Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"{archivePath}: not a readable tar.gz archive ({e.Message}); nothing was extracted.", e);
        }
    }

    /// <summary>The entry's path below the archive folder, with '/' turned into the local separator.</summary>
    private static string RelativeEntryPath(string name)
    {
        string path = name.Replace('\\', '/');
        while (path.StartsWith("./", StringComparison.Ordinal)) path = path[2..];
        if (path == ArchiveFolder) return "";
        if (path.StartsWith(ArchiveFolder + "/", StringComparison.Ordinal)) path = path[(ArchiveFolder.Length + 1)..];
        return path.Replace('/', Path.DirectorySeparatorChar);
    }

    /// <summary>Moves the extracted files into place by rename (complete files only); a file the user already has is kept.</summary>
    private static void MoveMissingFiles(string staging, string root)
    {
        foreach (string source in Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(root, Path.GetRelativePath(staging, source));
            if (File.Exists(target)) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            try
            {
                File.Move(source, target, overwrite: false);
            }
            catch (IOException) when (File.Exists(target))
            {
                // Another process extracting at the same time got there first with the same file.
            }
        }
    }

    private static void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (IOException)
        {
            // Best effort: a temporary file another process holds open is left with its dotted name.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
