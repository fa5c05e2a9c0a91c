using System.Text;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class PngEncoderTests
{
    [Fact]
    public void TheTestDecodersCrc32MatchesTheCheckValue()
    {
        Assert.Equal(0xCBF43926u, PngDecoder.Crc32(Encoding.ASCII.GetBytes("123456789")));
    }

    [Theory]
    [InlineData(1, 1, 1, 0)]
    [InlineData(7, 5, 1, 0)]
    [InlineData(4, 9, 2, 4)]
    [InlineData(13, 11, 3, 2)]
    [InlineData(3, 17, 4, 6)]
    [InlineData(24, 72, 3, 2)]
    public void RoundTripsRandomAndSmoothImages(int height, int width, int channels, int colorType)
    {
        var random = new Random(height * 100 + width * 10 + channels);
        // Noise and gradients, so that every filter type gets chosen somewhere.
        var pixels = new byte[height * width * channels];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                    pixels[(y * width + x) * channels + c] = y % 3 == 0 ? (byte)random.Next(256) : (byte)(x * 7 + y * 3 + c * 50);

        byte[] png = PngEncoder.Encode(pixels, height, width, channels);
        DecodedPng decoded = PngDecoder.Decode(png);
        Assert.Equal((width, height, colorType, channels), (decoded.Width, decoded.Height, decoded.ColorType, decoded.Channels));
        Assert.Equal(pixels, decoded.Pixels);
    }

    [Fact]
    public void ConstantImagesCompress()
    {
        byte[] png = PngEncoder.Encode(new byte[128 * 128 * 3], 128, 128, 3);
        Assert.True(png.Length < 1000, $"{png.Length} bytes for a black 128x128 image");
        Assert.Equal(new byte[128 * 128 * 3], PngDecoder.Decode(png).Pixels);
    }

    [Fact]
    public void SaveWritesTheSameBytesAndReplacesAnOldFileWhole()
    {
        using var dir = new TempDirectory();
        string path = dir["plots/grid.png"];
        byte[] first = [10, 20, 30, 40];
        PngEncoder.Save(path, first, 2, 2, 1);
        Assert.Equal(PngEncoder.Encode(first, 2, 2, 1), File.ReadAllBytes(path));

        var image = new ByteImage([1, 2, 3, 4, 5, 6], 1, 2, 3);
        PngEncoder.Save(path, image);
        DecodedPng decoded = PngDecoder.Decode(File.ReadAllBytes(path));
        Assert.Equal(image.Pixels, decoded.Pixels);
        Assert.Equal(["grid.png"], Directory.GetFiles(dir["plots"]).Select(Path.GetFileName));
    }

    [Fact]
    public void ReportsBadArguments()
    {
        var error = Assert.Throws<ArgumentException>(() => PngEncoder.Encode(new byte[5], 2, 2, 1));
        Assert.Contains("5 bytes", error.Message);
        Assert.Contains("needs 4", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.Encode(new byte[5], 1, 1, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.Encode([], 0, 1, 1));
    }
}
