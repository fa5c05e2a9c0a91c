using System.Buffers.Binary;
using Xunit;

namespace GpuDeconv.Training.Tests;

/// <summary>Image files as untrusted input: every bad file is an <see cref="InvalidDataException"/> naming it, what is wrong and what was expected.</summary>
public class ImageFileErrorTests
{
    [Fact]
    public void ADecompressionBombIsRefusedFromItsHeaderBeforeAnyPixelIsAllocated()
    {
        using var temp = new TempDirectory();
        byte[] bomb = ImageFiles.PngBomb(100_000, 100_000);
        File.WriteAllBytes(temp["bomb.png"], bomb);
        Assert.True(bomb.Length < 100, $"the bomb is {bomb.Length} bytes");
        ImageFile.Decode(ImageFiles.Blocks(2, 2).EncodePng(), "warm-up.png");    // Skia's first use allocates its own tables

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(temp["bomb.png"]));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains($"{temp["bomb.png"]}: the PNG header says 100000x100000 pixels (10000000000 in all), over the limits of 16384 per side", error.Message);
        Assert.Contains("ImageLimits.MaxSide", error.Message);
        Assert.Contains("not decoded", error.Message);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated to refuse a 30 GB image");
    }

    [Fact]
    public void ThePixelLimitHoldsWhenEachSideIsWithinItsOwn()
    {
        // 16000 x 16000 is within 16384 per side but 256 megapixels.
        var error = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(ImageFiles.PngBomb(16_000, 16_000), "wide.png"));

        Assert.Contains("wide.png: the PNG header says 16000x16000 pixels (256000000 in all)", error.Message);
        Assert.Contains("64000000 pixels (ImageLimits.MaxPixels)", error.Message);
    }

    [Fact]
    public void LimitsAreConfigurable()
    {
        byte[] png = ImageFiles.Blocks(30, 40).EncodePng();

        Assert.Contains("over the limits of 32 per side", Assert.Throws<InvalidDataException>(() => ImageFile.Decode(png, "a.png", new ImageLimits { MaxSide = 32 })).Message);
        Assert.Contains("and 1000 pixels", Assert.Throws<InvalidDataException>(() => ImageFile.Decode(png, "a.png", new ImageLimits { MaxPixels = 1000 })).Message);
        var size = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(new MemoryStream(png), "a.png", new ImageLimits { MaxFileBytes = 100 }));
        Assert.Contains($"a.png: the file is {png.Length} bytes or more, over the limit of 100 bytes (ImageLimits.MaxFileBytes)", size.Message);
        // A stream that cannot tell its length is read one byte past the limit, no further.
        var endless = new EndlessStream();
        Assert.Contains("over the limit of 100 bytes", Assert.Throws<InvalidDataException>(() => ImageFile.Decode(endless, "endless", new ImageLimits { MaxFileBytes = 100 })).Message);
        Assert.Equal(101, endless.Served);
        Assert.Equal((30, 40), (ImageFile.Decode(png, "a.png", new ImageLimits { MaxSide = 40, MaxPixels = 1200 }).Height, 40));
    }

    [Theory]
    [InlineData("png")]
    [InlineData("jpg")]
    [InlineData("webp")]
    [InlineData("bmp")]
    public void ATruncatedFileSaysItIsTruncated(string format)
    {
        using var temp = new TempDirectory();
        var image = ImageFiles.Blocks(64, 64);
        byte[] whole = format switch
        {
            "png" => image.EncodePng(),
            "jpg" => ImageFiles.Jpeg(image),
            "webp" => ImageFiles.WebpLossless(image),
            _ => ImageFiles.Bmp(image),
        };
        string path = temp["cut." + format];
        File.WriteAllBytes(path, whole[..(whole.Length * 2 / 3)]);

        var error = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(path));

        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void AFileCutInsideItsHeaderSaysSo()
    {
        byte[] png = ImageFiles.Blocks(8, 8).EncodePng();

        var error = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(png[..20], "head.png"));

        Assert.Contains("head.png: the file ends inside its PNG header (20 bytes); it is truncated", error.Message);
    }

    [Fact]
    public void DamagedImageDataIsNamedAsDamaged()
    {
        // Zeros over the middle of the compressed data with the chunk CRCs fixed: libpng gets to the zlib stream and
        // finds it broken.
        byte[] png = ImageFiles.Blocks(64, 64).EncodePng();
        int idat = ImageFiles.ChunkOffsets(png).First(at => png[at + 4] == (byte)'I' && png[at + 5] == (byte)'D');
        int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(idat));
        png.AsSpan(idat + 8 + length / 3, length / 3).Fill(0xFF);

        var error = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(ImageFiles.WithCrcsFixed(png), "broken.png"));

        Assert.StartsWith("broken.png: the PNG data ", error.Message);
        Assert.Contains("64x64 image", error.Message);
        Assert.Contains("damaged", error.Message);
    }

    [Fact]
    public void AFileOfAnotherKindSaysWhatItStartsWith()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["notes.png"], "PK\u0003\u0004 this is a zip, not a picture");

        var error = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(temp["notes.png"]));

        Assert.Equal($"{temp["notes.png"]}: not a PNG, JPEG, WebP or BMP image (it starts with 50 4B 03 04 20 74 68 69 ...); the file is of another kind or damaged.", error.Message);
    }

    [Fact]
    public void AGifIsRecognisedAndRefused()
    {
        var error = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(ImageFiles.Gif(), "anim.gif"));

        Assert.Equal("anim.gif: a GIF image; expected a PNG, JPEG, WebP or BMP image (the formats GpuDeconv reads).", error.Message);
    }

    [Fact]
    public void AnEmptyFileSaysItIsEmpty()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["empty.jpg"], []);

        var error = Assert.Throws<InvalidDataException>(() => ImageFile.Decode(temp["empty.jpg"]));

        Assert.Equal($"{temp["empty.jpg"]}: the file is empty; expected a PNG, JPEG, WebP or BMP image.", error.Message);
    }

    [Fact]
    public void LoadFolderNamesTheDamagedImage()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["a.png"], ImageFiles.Blocks(8, 8).EncodePng());
        File.WriteAllBytes(temp["b.png"], ImageFiles.Blocks(8, 8).EncodePng()[..40]);

        var error = Assert.Throws<InvalidDataException>(() => ImageFile.LoadFolder(temp.Path));

        Assert.StartsWith(temp["b.png"] + ": ", error.Message);
    }

    /// <summary>A stream of zeros without end or length, counting the bytes it served.</summary>
    private sealed class EndlessStream : Stream
    {
        public long Served { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Array.Clear(buffer, offset, count);
            Served += count;
            return count;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
