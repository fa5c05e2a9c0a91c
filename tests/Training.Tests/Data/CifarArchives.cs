using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace GpuDeconv.Training.Tests;

/// <summary>CIFAR-10 archives in the official layout for the download tests (also compiled into the command-line tests).</summary>
internal static class CifarArchives
{
    /// <summary>The six batch files every archive holds.</summary>
    public static readonly string[] BatchFiles =
        ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];

    /// <summary>A tar.gz in the official layout (cifar-10-batches-bin/...) with small batch files; data_batch_1 is 1.5 MiB of noise so progress is reported more than once.</summary>
    public static (byte[] Archive, Dictionary<string, byte[]> Files) Build(Action<TarWriter>? extra = null, string? omit = null)
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
        return (Pack(files, extra), files);
    }

    private static byte[] Pack(Dictionary<string, byte[]> files, Action<TarWriter>? extra)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            tar.WriteEntry(new UstarTarEntry(TarEntryType.Directory, "cifar-10-batches-bin/"));
            foreach (var (name, content) in files)
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "cifar-10-batches-bin/" + name) { DataStream = new MemoryStream(content) });
            extra?.Invoke(tar);
        }
        return output.ToArray();
    }

    /// <summary>The lowercase hex MD5 of <paramref name="data"/>.</summary>
    public static string Md5(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));
}
