using Xunit;

namespace GpuDeconv.Training.Tests;

public class ByteImageTests
{
    [Fact]
    public void FloatNormalisationMatchesTheSpecVectors()
    {
        // docs/reference/op-semantics.md section 4: [0, 0.5, 1] -> [0, 127, 255]; [-2, 0, 1, 2] -> [1, 128, 191, 255].
        Assert.Equal([0, 127, 255], ByteImage.FromFloats([0f, 0.5f, 1f], 1, 3, 1, ImageLayout.Hwc).Pixels);
        Assert.Equal([1, 128, 191, 255], ByteImage.FromFloats([-2f, 0f, 1f, 2f], 2, 2, 1, ImageLayout.Hwc).Pixels);
    }

    [Fact]
    public void NegativeImagesScaleByTheLargerMagnitude()
    {
        // min -1, max 4: scale 127/4 around 128.
        Assert.Equal([96, 128, 159, 255], ByteImage.FromFloats([-1f, 0f, 1f, 4f], 1, 4, 1, ImageLayout.Hwc).Pixels);
    }

    [Fact]
    public void TinyRangesScaleToZero()
    {
        Assert.Equal([0, 0, 0], ByteImage.FromFloats([0f, 5e-7f, 9e-7f], 1, 3, 1, ImageLayout.Hwc).Pixels);
        Assert.Equal([128, 128], ByteImage.FromFloats([-5e-7f, 5e-7f], 1, 2, 1, ImageLayout.Hwc).Pixels);
        Assert.Equal([0, 0], ByteImage.FromFloats([0f, 0f], 1, 2, 1, ImageLayout.Hwc).Pixels);
    }

    [Fact]
    public void NonFinitePixelsAreRedAndIgnoredForTheRange()
    {
        // RGB: the second pixel has a NaN channel, so it is red and its 100 does not set the maximum.
        float[] rgb = [0f, 1f, 2f, 100f, float.NaN, 0f, 2f, 2f, 2f];
        Assert.Equal([0, 127, 255, 255, 0, 0, 255, 255, 255], ByteImage.FromFloats(rgb, 1, 3, 3, ImageLayout.Hwc).Pixels);
        // Gray: red cut to one channel is 255.
        Assert.Equal([255, 0, 255], ByteImage.FromFloats([float.PositiveInfinity, 0f, 3f], 1, 3, 1, ImageLayout.Hwc).Pixels);
        // RGBA keeps the opaque alpha of bad_color.
        Assert.Equal([255, 0, 0, 255], ByteImage.FromFloats([float.NegativeInfinity, 0f, 0f, 0f], 1, 1, 4, ImageLayout.Hwc).Pixels);
    }

    [Fact]
    public void ChwIsTransposedToHwc()
    {
        // 2x2 RGB in CHW: R plane 1..4, G plane 11..14, B plane 21..24.
        byte[] chw = [1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24];
        ByteImage image = ByteImage.FromBytes(chw, 2, 2, 3, ImageLayout.Chw);
        Assert.Equal([1, 11, 21, 2, 12, 22, 3, 13, 23, 4, 14, 24], image.Pixels);
        Assert.Equal(chw, ByteImage.FromBytes(chw, 2, 2, 3, ImageLayout.Hwc).Pixels);

        float[] chwFloat = [.. chw.Select(b => (float)b)];
        Assert.Equal(ByteImage.FromFloats([.. image.Pixels.Select(b => (float)b)], 2, 2, 3, ImageLayout.Hwc).Pixels,
            ByteImage.FromFloats(chwFloat, 2, 2, 3, ImageLayout.Chw).Pixels);
    }

    [Fact]
    public void FloatConversionMatchesAReferenceOnARandomImage()
    {
        var random = new Random(3);
        float[] values = [.. Enumerable.Range(0, 5 * 7 * 3).Select(_ => (float)(random.NextDouble() * 6 - 2))];
        byte[] actual = ByteImage.FromFloats(values, 5, 7, 3, ImageLayout.Hwc).Pixels;
        float maxMagnitude = values.Max(Math.Abs);
        for (int i = 0; i < values.Length; i++)
        {
            // The spec's formula, evaluated the same way in single precision.
            float expected = values[i] * (127f / maxMagnitude) + 128f;
            Assert.True((byte)(int)expected == actual[i], $"pixel value {i}: {values[i]} -> {actual[i]}, expected {(int)expected}");
        }
    }

    [Fact]
    public void ReportsSizeMismatches()
    {
        var error = Assert.Throws<ArgumentException>(() => ByteImage.FromBytes(new byte[11], 2, 2, 3, ImageLayout.Hwc));
        Assert.Contains("11 values given", error.Message);
        Assert.Contains("2x2x3", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ByteImage(new byte[5], 1, 1, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ByteImage.FromFloats([], 0, 1, 1, ImageLayout.Hwc));
    }

    [Fact]
    public void UpscaleRepeatsEachPixelInASquare()
    {
        var image = new ByteImage([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 2, 3, 2);

        ByteImage big = image.Upscale(3);

        Assert.Equal((6, 9, 2), (big.Height, big.Width, big.Channels));
        for (int y = 0; y < 6; y++)
            for (int x = 0; x < 9; x++)
                for (int c = 0; c < 2; c++)
                    Assert.Equal(image.Pixels[((y / 3) * 3 + x / 3) * 2 + c], big.Pixels[(y * 9 + x) * 2 + c]);
        Assert.Same(image, image.Upscale(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => image.Upscale(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => image.Upscale(int.MaxValue));
    }

    [Fact]
    public void CenterCropRoundsTheOffsetDown()
    {
        // 4x5 gray, values = index: a 2x2 crop starts at row (4-2)/2 = 1, column (5-2)/2 = 1.
        var image = new ByteImage([.. Enumerable.Range(0, 20).Select(i => (byte)i)], 4, 5, 1);

        Assert.Equal([6, 7, 11, 12], image.CenterCrop(2, 2).Pixels);
        Assert.Equal(image.Pixels, image.CenterCrop(4, 5).Pixels);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => image.CenterCrop(5, 2));
        Assert.Contains("fit the 4x5 image", error.Message);
    }

    [Theory]
    [InlineData(9, 13, 3, 4, 5)]      // shrink by non-integer factors
    [InlineData(8, 8, 1, 2, 2)]       // shrink by 4
    [InlineData(3, 5, 3, 7, 11)]      // enlarge
    [InlineData(6, 4, 2, 6, 9)]       // one axis kept, one enlarged
    [InlineData(17, 1, 1, 5, 1)]
    public void ResizeMatchesTheTriangleFilterReference(int height, int width, int channels, int toHeight, int toWidth)
    {
        var random = new Random(height * 1000 + width * 10 + channels);
        var pixels = new byte[height * width * channels];
        random.NextBytes(pixels);
        var image = new ByteImage(pixels, height, width, channels);

        ByteImage resized = image.Resize(toHeight, toWidth);

        Assert.Equal((toHeight, toWidth, channels), (resized.Height, resized.Width, resized.Channels));
        byte[] expected = ReferenceResize(pixels, height, width, channels, toHeight, toWidth);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - resized.Pixels[i]) <= 1, $"value {i}: {resized.Pixels[i]}, reference {expected[i]}");
    }

    [Fact]
    public void ShrinkingAFinePatternAveragesItInsteadOfAliasing()
    {
        // A one-pixel checkerboard: sampling (nearest, or bilinear without widening the filter) gives black or white.
        var pixels = new byte[64 * 64];
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++) pixels[y * 64 + x] = (byte)((x + y) % 2 == 0 ? 255 : 0);
        var board = new ByteImage(pixels, 64, 64, 1);

        foreach (int size in new[] { 16, 21, 43 })
        {
            byte[] small = board.Resize(size, size).Pixels;
            Assert.True(small.All(v => v is >= 96 and <= 160), $"{size}x{size}: values {small.Min()}..{small.Max()}, expected about 128 everywhere");
        }
        Assert.Equal(pixels, board.Resize(64, 64).Pixels);
    }

    [Theory]
    [InlineData(300, 451, 256, 256, 384)]    // torchvision's Resize(256) of a landscape photo: 451 * 256 / 300 = 384.9, rounded down
    [InlineData(451, 300, 256, 384, 256)]
    [InlineData(10, 10, 3, 3, 3)]
    [InlineData(2, 1000, 1, 1, 500)]
    public void ResizeShorterSideKeepsTheAspectRoundingDown(int height, int width, int size, int expectedHeight, int expectedWidth)
    {
        var image = new ByteImage(new byte[height * width], height, width, 1);

        ByteImage resized = image.ResizeShorterSide(size);

        Assert.Equal((expectedHeight, expectedWidth), (resized.Height, resized.Width));
    }

    // PIL's bilinear resampling written directly: out(y, x) = sum_i sum_j wy(y, i) wx(x, j) in(i, j), each axis's
    // weights the triangle max(0, 1 - |(i + 0.5 - centre)| / s) with s = max(in / out, 1), over the whole axis,
    // normalised to sum to 1; in double precision, rounded once.
    static byte[] ReferenceResize(byte[] pixels, int height, int width, int channels, int toHeight, int toWidth)
    {
        static double[,] Weights(int inSize, int outSize)
        {
            double scale = (double)inSize / outSize, s = Math.Max(scale, 1);
            var w = new double[outSize, inSize];
            for (int o = 0; o < outSize; o++)
            {
                double centre = (o + 0.5) * scale, total = 0;
                for (int i = 0; i < inSize; i++) total += w[o, i] = Math.Max(0, 1 - Math.Abs(i + 0.5 - centre) / s);
                for (int i = 0; i < inSize; i++) w[o, i] /= total;
            }
            return w;
        }
        double[,] wy = Weights(height, toHeight), wx = Weights(width, toWidth);
        var result = new byte[toHeight * toWidth * channels];
        for (int y = 0; y < toHeight; y++)
            for (int x = 0; x < toWidth; x++)
                for (int c = 0; c < channels; c++)
                {
                    double sum = 0;
                    for (int i = 0; i < height; i++)
                        for (int j = 0; j < width; j++) sum += wy[y, i] * wx[x, j] * pixels[(i * width + j) * channels + c];
                    result[(y * toWidth + x) * channels + c] = (byte)Math.Clamp(Math.Round(sum, MidpointRounding.AwayFromZero), 0, 255);
                }
        return result;
    }
}
