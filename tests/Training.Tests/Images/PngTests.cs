using System.Buffers.Binary;
using System.Text;
using Xunit;

namespace GpuDeconv.Training.Tests;

/// <summary><see cref="ByteImage.EncodePng"/> and <see cref="ByteImage.SavePng"/> (SkiaSharp's encoder), read back with <see cref="PngDecoder"/>.</summary>
public class PngTests
{
    [Theory]
    [InlineData(1, 1, 1, 0)]
    [InlineData(7, 5, 1, 0)]
    [InlineData(13, 11, 3, 2)]
    [InlineData(3, 17, 4, 6)]
    [InlineData(24, 72, 3, 2)]
    public void RoundTripsRandomAndSmoothImages(int height, int width, int channels, int colorType)
    {
        byte[] pixels = NoiseAndGradients(height, width, channels);

        byte[] png = new ByteImage(pixels, height, width, channels).EncodePng();

        DecodedPng decoded = PngDecoder.Decode(png);
        Assert.Equal((width, height, colorType, channels), (decoded.Width, decoded.Height, decoded.ColorType, decoded.Channels));
        Assert.Equal(pixels, decoded.Pixels);
    }

    [Fact]
    public void GrayWithAlphaIsWrittenAsRgbaWithTheGrayInEveryColour()
    {
        byte[] pixels = NoiseAndGradients(4, 9, 2);

        DecodedPng decoded = PngDecoder.Decode(new ByteImage(pixels, 4, 9, 2).EncodePng());

        Assert.Equal((6, 4), (decoded.ColorType, decoded.Channels));
        for (int p = 0; p < 4 * 9; p++)
            Assert.Equal([pixels[2 * p], pixels[2 * p], pixels[2 * p], pixels[2 * p + 1]], decoded.Pixels.AsSpan(4 * p, 4).ToArray());
    }

    [Fact]
    public void RgbaKeepsColoursUnderZeroAlpha()
    {
        // Premultiplying would turn a transparent pixel's colour to 0; the PNG keeps it.
        byte[] pixels = [200, 100, 50, 0, 10, 20, 30, 128];

        Assert.Equal(pixels, PngDecoder.Decode(new ByteImage(pixels, 1, 2, 4).EncodePng()).Pixels);
    }

    [Fact]
    public void HoldsNoTimestampOrTextAndTheSameImageGivesTheSameBytes()
    {
        var image = new ByteImage(NoiseAndGradients(24, 72, 3), 24, 72, 3);

        byte[] png = image.EncodePng();

        Assert.Equal(png, image.EncodePng());
        var chunks = new List<string>();
        for (int at = 8; at < png.Length; at += 12 + BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at)))
            chunks.Add(Encoding.ASCII.GetString(png, at + 4, 4));
        Assert.Equal("IHDR", chunks[0]);
        Assert.Equal("IEND", chunks[^1]);
        // libpng's sBIT (8 significant bits) is the one ancillary chunk; no tIME, tEXt or colour profile.
        Assert.All(chunks, chunk => Assert.Contains(chunk, new[] { "IHDR", "sBIT", "IDAT", "IEND" }));
    }

    [Fact]
    public void ConstantImagesCompress()
    {
        byte[] png = new ByteImage(new byte[128 * 128 * 3], 128, 128, 3).EncodePng();

        Assert.True(png.Length < 1000, $"{png.Length} bytes for a black 128x128 image");
        Assert.Equal(new byte[128 * 128 * 3], PngDecoder.Decode(png).Pixels);
    }

    [Fact]
    public void SavePngWritesTheEncodedBytesAndReplacesAnOldFileWhole()
    {
        using var dir = new TempDirectory();
        string path = dir["plots/grid.png"];
        var first = new ByteImage([10, 20, 30, 40], 2, 2, 1);
        first.SavePng(path);
        Assert.Equal(first.EncodePng(), File.ReadAllBytes(path));

        var second = new ByteImage([1, 2, 3, 4, 5, 6], 1, 2, 3);
        second.SavePng(path);

        Assert.Equal(second.Pixels, PngDecoder.Decode(File.ReadAllBytes(path)).Pixels);
        Assert.Equal(["grid.png"], Directory.GetFiles(dir["plots"]).Select(Path.GetFileName));
    }

    [Fact]
    public void SavePngRejectsAnEmptyPath()
    {
        Assert.Throws<ArgumentException>(() => new ByteImage([1], 1, 1, 1).SavePng(" "));
    }

    // Noise every third row and gradients between, so that every PNG filter type gets chosen somewhere.
    internal static byte[] NoiseAndGradients(int height, int width, int channels)
    {
        var random = new Random(height * 100 + width * 10 + channels);
        var pixels = new byte[height * width * channels];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                    pixels[(y * width + x) * channels + c] = y % 3 == 0 ? (byte)random.Next(256) : (byte)(x * 7 + y * 3 + c * 50);
        return pixels;
    }
}
