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
}
