using System.Buffers;

namespace GpuDeconv.Training;

/// <summary>
/// The CIFAR-10 binary version (<c>cifar-10-batches-bin</c>): 60,000 32x32 RGB images in 10 classes, read into
/// HWC bytes, and downloaded from the official archive when missing (<see cref="EnsureDownloadedAsync"/>).
/// </summary>
public static partial class Cifar10
{
    /// <summary>Image height in pixels.</summary>
    public const int Height = 32;

    /// <summary>Image width in pixels.</summary>
    public const int Width = 32;

    /// <summary>Channels per pixel (RGB).</summary>
    public const int Channels = 3;

    /// <summary>Bytes per record: one label byte, then the 1024 R, 1024 G and 1024 B bytes of the image.</summary>
    public const int RecordSize = 1 + Height * Width * Channels;

    /// <summary>Records in each of the official batch files.</summary>
    public const int RecordsPerFile = 10_000;

    /// <summary>The folder the official archive extracts to.</summary>
    public const string ArchiveFolder = "cifar-10-batches-bin";

    /// <summary>The class-names file of the binary version.</summary>
    public const string MetaFile = "batches.meta.txt";

    private const int Plane = Height * Width;

    /// <summary>The ten class names in label order (as in <c>batches.meta.txt</c>).</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The batch files of a split, in the order their records are concatenated.</summary>
    public static IReadOnlyList<string> FileNames(DatasetSplit split) => split switch
    {
        DatasetSplit.Train => ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"],
        DatasetSplit.Test => ["test_batch.bin"],
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "Unknown split."),
    };

    /// <summary>
    /// The folder holding every batch file of both splits: <paramref name="directory"/> itself or its
    /// <c>cifar-10-batches-bin</c> subfolder (where <c>tar xzf cifar-10-binary.tar.gz</c> puts them); null when neither does.
    /// </summary>
    public static string? FindDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string[] required = [.. FileNames(DatasetSplit.Train), .. FileNames(DatasetSplit.Test)];
        foreach (string candidate in new[] { directory, Path.Combine(directory, ArchiveFolder) })
        {
            if (required.All(name => File.Exists(Path.Combine(candidate, name))))
                return candidate;
        }
        return null;
    }

    /// <summary>
    /// Loads a split from <paramref name="directory"/> (or its <c>cifar-10-batches-bin</c> subfolder): each batch file must
    /// hold exactly 10,000 records; class names come from <c>batches.meta.txt</c>, or the standard names when it is absent.
    /// </summary>
    /// <exception cref="FileNotFoundException">A batch file is missing; the message says where to put the files and how to get them.</exception>
    /// <exception cref="InvalidDataException">A file has the wrong size, a label is not 0..9, or the class-names file does not hold 10 names.</exception>
    public static Dataset Load(string directory, DatasetSplit split)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var files = FileNames(split);
        string folder = ResolveSplitDirectory(directory, files);
        var classNames = ReadClassNames(Path.Combine(folder, MetaFile));

        var pixels = new byte[files.Count * RecordsPerFile * (RecordSize - 1)];
        var labels = new int[files.Count * RecordsPerFile];
        for (int f = 0; f < files.Count; f++)
        {
            string path = Path.Combine(folder, files[f]);
            long length = new FileInfo(path).Length;
            CheckWholeRecords(path, length);
            if (length != (long)RecordsPerFile * RecordSize)
                throw new InvalidDataException(
                    $"{path}: holds {length / RecordSize} records ({length} bytes), expected {RecordsPerFile} records of {RecordSize} bytes ({(long)RecordsPerFile * RecordSize} bytes) as in the official archive.");
            ReadRecords(path, RecordsPerFile,
                pixels.AsSpan(f * RecordsPerFile * (RecordSize - 1), RecordsPerFile * (RecordSize - 1)),
                labels.AsSpan(f * RecordsPerFile, RecordsPerFile));
        }
        return new Dataset($"CIFAR-10 {split.ToString().ToLowerInvariant()}", pixels, labels, Height, Width, Channels, classNames);
    }

    /// <summary>Reads one file in the CIFAR-10 binary record format holding any number of records (a subset, or a file of one's own).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is empty or not a whole number of 3073-byte records, or a label is not 0..9.</exception>
    public static Dataset ReadBatchFile(string path, IReadOnlyList<string>? classNames = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such CIFAR-10 batch file.", path);
        long length = new FileInfo(path).Length;
        CheckWholeRecords(path, length);
        if (length > (long)Array.MaxLength / (RecordSize - 1) * RecordSize)
            throw new InvalidDataException($"{path}: {length} bytes is more records than one array can hold.");
        int records = (int)(length / RecordSize);
        var pixels = new byte[records * (RecordSize - 1)];
        var labels = new int[records];
        ReadRecords(path, records, pixels, labels);
        return new Dataset(Path.GetFileName(path), pixels, labels, Height, Width, Channels, classNames ?? ClassNames);
    }

    private static string ResolveSplitDirectory(string directory, IReadOnlyList<string> files)
    {
        string nested = Path.Combine(directory, ArchiveFolder);
        foreach (string candidate in new[] { directory, nested })
        {
            if (files.All(name => File.Exists(Path.Combine(candidate, name))))
                return candidate;
        }

        // Report the files missing from the folder the user most likely meant: the nested one if it exists.
        string meant = Directory.Exists(nested) ? nested : directory;
        var missing = files.Where(name => !File.Exists(Path.Combine(meant, name))).ToArray();
        throw new FileNotFoundException(
            $"CIFAR-10: {string.Join(", ", missing)} not found in {meant}. {WhereToPutFiles(directory)}",
            Path.Combine(meant, missing[0]));
    }

    /// <summary>The advice every "files missing" and "download failed" message ends with.</summary>
    internal static string WhereToPutFiles(string directory) =>
        $"Put data_batch_1.bin ... data_batch_5.bin, test_batch.bin and {MetaFile} in {Path.GetFullPath(directory)}: " +
        $"download the CIFAR-10 binary version (cifar-10-binary.tar.gz) from https://www.cs.toronto.edu/~kriz/cifar.html and run " +
        $"`tar xzf cifar-10-binary.tar.gz --strip-components=1 -C {Path.GetFullPath(directory)}`, or let Cifar10.EnsureDownloadedAsync fetch it.";

    private static void CheckWholeRecords(string path, long length)
    {
        if (length == 0)
            throw new InvalidDataException($"{path}: the file is empty, expected records of {RecordSize} bytes (a label byte and 3072 pixel bytes).");
        if (length % RecordSize != 0)
            throw new InvalidDataException(
                $"{path}: {length} bytes is not a whole number of {RecordSize}-byte records ({length / RecordSize} records and {length % RecordSize} bytes left over); the file is truncated or not a CIFAR-10 binary batch.");
    }

    /// <summary>Reads <paramref name="records"/> records, turning each image from planar [3][32][32] into HWC.</summary>
    private static void ReadRecords(string path, int records, Span<byte> pixels, Span<int> labels)
    {
        const int chunkRecords = 256;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(chunkRecords * RecordSize);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            for (int first = 0; first < records; first += chunkRecords)
            {
                int count = Math.Min(chunkRecords, records - first);
                int read = stream.ReadAtLeast(buffer.AsSpan(0, count * RecordSize), count * RecordSize, throwOnEndOfStream: false);
                if (read < count * RecordSize)
                    throw new InvalidDataException(
                        $"{path}: ends at byte offset {(long)first * RecordSize + read}, expected {(long)records * RecordSize} bytes (the file shrank while being read).");
                for (int r = 0; r < count; r++)
                {
                    var record = buffer.AsSpan(r * RecordSize, RecordSize);
                    int index = first + r;
                    if (record[0] >= ClassNames.Count)
                        throw new InvalidDataException(
                            $"{path}: record {index} at byte offset {(long)index * RecordSize} has label {record[0]}, expected 0..{ClassNames.Count - 1}.");
                    labels[index] = record[0];
                    var image = pixels.Slice(index * (RecordSize - 1), RecordSize - 1);
                    var red = record.Slice(1, Plane);
                    var green = record.Slice(1 + Plane, Plane);
                    var blue = record.Slice(1 + 2 * Plane, Plane);
                    for (int p = 0; p < Plane; p++)
                    {
                        image[3 * p] = red[p];
                        image[3 * p + 1] = green[p];
                        image[3 * p + 2] = blue[p];
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static IReadOnlyList<string> ReadClassNames(string path)
    {
        if (!File.Exists(path)) return ClassNames;
        var names = File.ReadAllLines(path).Select(line => line.Trim()).Where(line => line.Length > 0).ToArray();
        if (names.Length != ClassNames.Count)
            throw new InvalidDataException(
                $"{path}: holds {names.Length} class names, expected {ClassNames.Count} (one per line: {string.Join(", ", ClassNames)}).");
        return names;
    }
}
