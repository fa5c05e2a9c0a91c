using Xunit;

namespace GpuDeconv.Training.Tests;

public class IdxTests
{
    private static byte Pixel(int image, int p) => (byte)(image * 31 + p);

    [Theory]
    [InlineData(false, "images")]
    [InlineData(true, "images")]
    [InlineData(true, "images.idx")]      // gzip without .gz in the name
    [InlineData(false, "images.gz")]      // plain despite the .gz name
    public void ReadsPlainAndGzipImagesByContent(bool gzip, string name)
    {
        using var temp = new TempDirectory();
        var data = DataFiles.IdxImages(3, 4, 5, Pixel);
        File.WriteAllBytes(temp[name], gzip ? DataFiles.Gzip(data) : data);

        var images = Idx.ReadImages(temp[name]);

        Assert.Equal((3, 4, 5), (images.Count, images.Rows, images.Columns));
        Assert.Equal(Enumerable.Range(0, 60).Select(i => Pixel(i / 20, i % 20)), images.Pixels);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsLabels(bool gzip)
    {
        using var temp = new TempDirectory();
        var data = DataFiles.IdxLabels(7, 0, 9, 3);
        File.WriteAllBytes(temp["labels"], gzip ? DataFiles.Gzip(data) : data);

        Assert.Equal(new byte[] { 7, 0, 9, 3 }, Idx.ReadLabels(temp["labels"]));
    }

    [Fact]
    public void WrongMagicNamesBothNumbers()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["labels"], DataFiles.IdxLabels(1, 2));

        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(temp["labels"]));

        Assert.Contains(temp["labels"] + ": magic number at offset 0 is 0x00000801 (2049), expected 0x00000803 (2051) for IDX images", e.Message);
    }

    [Fact]
    public void ShortHeaderIsTruncation()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["images"], DataFiles.IdxImages(1, 2, 2, Pixel)[..10]);

        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(temp["images"]));

        Assert.Contains(temp["images"] + ": ends at offset 10, expected a 16-byte IDX header", e.Message);
    }

    [Theory]
    [InlineData(false, "")]
    [InlineData(true, " of the decompressed data")]
    public void TruncatedImagesNameTheOffsetAndWhatWasExpected(bool gzip, string where)
    {
        using var temp = new TempDirectory();
        var data = DataFiles.IdxImages(3, 28, 28, Pixel)[..(16 + 2 * 784 + 100)];
        File.WriteAllBytes(temp["images"], gzip ? DataFiles.Gzip(data) : data);

        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(temp["images"]));

        Assert.Contains(
            $"{temp["images"]}: truncated: ends at offset 1684{where}, expected 3 images of 28x28 bytes from offset 16 to offset 2368", e.Message);
    }

    [Fact]
    public void TruncatedLabels()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["labels"], DataFiles.IdxLabels(1, 2, 3, 4)[..10]);

        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(temp["labels"]));

        Assert.Contains("truncated: ends at offset 10, expected 4 labels from offset 8 to offset 12", e.Message);
    }

    [Fact]
    public void DataAfterTheLastImageIsAnError()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["images"], [.. DataFiles.IdxImages(2, 2, 2, Pixel), 0]);

        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(temp["images"]));

        Assert.Contains("data goes on after offset 24, where 2 images of 2x2 bytes end", e.Message);
    }

    [Fact]
    public void NegativeCountIsAnError()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["images"], DataFiles.IdxImages(0, 2, 2, Pixel)[..12].Concat(new byte[] { 0xFF, 0xFF, 0xFF, 0xFE }).ToArray());

        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(temp["images"]));

        Assert.Contains("columns at offset 12 is -2, expected a count of zero or more", e.Message);
    }

    [Fact]
    public void CorruptGzipNamesTheFile()
    {
        using var temp = new TempDirectory();
        var gzip = DataFiles.Gzip(DataFiles.IdxImages(2, 28, 28, Pixel));
        for (int i = 20; i < gzip.Length - 8; i++) gzip[i] ^= 0x5A;
        File.WriteAllBytes(temp["images.gz"], gzip);

        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(temp["images.gz"]));

        Assert.StartsWith(temp["images.gz"] + ":", e.Message);
    }

    [Fact]
    public void MissingFile()
    {
        using var temp = new TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => Idx.ReadLabels(temp["nothing"]));
        Assert.Contains(temp["nothing"], e.Message);
    }

    [Theory]
    [InlineData(false, "")]
    [InlineData(true, " of the decompressed data")]
    public void AHeaderPromisingMoreThanTheFileHoldsCostsNoMoreThanTheFile(bool gzip, string where)
    {
        // 60000 images of 28x28 (47 MB) promised, 10 bytes present: found by IdxMutationTests, which allocated the promise.
        using var temp = new TempDirectory();
        byte[] data = [.. DataFiles.IdxImages(0, 28, 28, Pixel), .. new byte[10]];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), 60_000);
        File.WriteAllBytes(temp["images"], gzip ? DataFiles.Gzip(data) : data);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(temp["images"]));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains($"truncated: ends at offset 26{where}, expected 60000 images of 28x28 bytes from offset 16 to offset 47040016", e.Message);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated for a 26-byte file");
    }

    [Theory]
    [InlineData(0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF)]
    [InlineData(0x10000, 0x10000, 1)]
    public void DimensionsBeyondOneArrayAreRefusedWithoutOverflow(int count, int rows, int columns)
    {
        using var temp = new TempDirectory();
        byte[] data = DataFiles.IdxImages(0, 1, 1, Pixel);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), count);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(8), rows);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(12), columns);
        File.WriteAllBytes(temp["images"], data);

        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadImages(temp["images"]));

        Assert.Contains($"{count} images of {rows}x{columns} are more bytes than one array holds", e.Message);
    }

    [Fact]
    public void ALabelCountBeyondOneArrayIsRefused()
    {
        using var temp = new TempDirectory();
        byte[] data = DataFiles.IdxLabels();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), int.MaxValue);
        File.WriteAllBytes(temp["labels"], data);

        var e = Assert.Throws<InvalidDataException>(() => Idx.ReadLabels(temp["labels"]));

        Assert.Contains("2147483647 labels are more bytes than one array holds", e.Message);
    }
}
