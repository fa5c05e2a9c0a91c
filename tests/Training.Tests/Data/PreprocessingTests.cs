using Xunit;

namespace GpuDeconv.Training.Tests;

public class PreprocessingTests
{
    private static float[] Iota(int n, float start = 0) => Enumerable.Range(0, n).Select(i => start + i).ToArray();

    private static void AssertClose(float[] expected, float[] actual, float atol = 1e-5f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= atol, $"index {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void StandardizeMatchesTheTensorFlowTestVector()
    {
        var image = Iota(12, 1);  // a 2x2x3 image holding 1..12: mean 6.5, stddev 3.452053

        Preprocessing.Standardize(image);

        float[] half = [-1.593255f, -1.303572f, -1.013890f, -0.724207f, -0.434524f, -0.144841f];
        AssertClose([.. half, .. half.Reverse().Select(v => -v)], image, 1e-6f);
    }

    [Fact]
    public void StandardizeFloorsTheStddevAtOneOverRootN()
    {
        float[] image = [0, 0, 0, 0.1f];  // mean 0.025, stddev 0.0433 < 1/sqrt(4) = 0.5
        Preprocessing.Standardize(image);
        AssertClose([-0.05f, -0.05f, -0.05f, 0.15f], image, 1e-7f);

        float[] flat = [7, 7, 7];
        Preprocessing.Standardize(flat);
        Assert.Equal([0f, 0f, 0f], flat);
    }

    [Fact]
    public void CentralCropKeepsRowsAndColumnsFourTo27()
    {
        var image = Iota(32 * 32 * 3);
        var output = new float[24 * 24 * 3];

        Preprocessing.CropOrPad(image, 32, 32, 3, output, 24, 24);

        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 24; x++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(image[((y + 4) * 32 + x + 4) * 3 + c], output[(y * 24 + x) * 3 + c]);
    }

    [Fact]
    public void CropOrPadRoundsOffsetsDownAndPadsWithZeros()
    {
        // 3x5x1 to 4x2: rows are padded (offset (4-3)/2 = 0, one zero row below), columns cropped at (5-2)/2 = 1.
        var image = Iota(15, 1);
        var output = new float[8];

        Preprocessing.CropOrPad(image, 3, 5, 1, output, 4, 2);

        Assert.Equal([2f, 3f, 7f, 8f, 12f, 13f, 0f, 0f], output);
    }

    [Fact]
    public void CropTakesTheWindowAtTheOffset()
    {
        var image = Iota(4 * 4 * 2);
        var output = new float[2 * 3 * 2];

        Preprocessing.Crop(image, 4, 4, 2, top: 2, left: 1, output, 2, 3);

        Assert.Equal([18f, 19f, 20f, 21f, 22f, 23f, 26f, 27f, 28f, 29f, 30f, 31f], output);
        var e = Assert.Throws<ArgumentException>(() => Preprocessing.Crop(image, 4, 4, 2, top: 3, left: 0, output, 2, 3));
        Assert.Contains("window 2x3 at (3, 0) is not inside the 4x4 image", e.Message);
    }

    [Fact]
    public void FlipMirrorsEachRowKeepingChannelsTogether()
    {
        float[] image = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];  // 2 rows x 3 columns x 2 channels

        Preprocessing.FlipLeftRight(image, 2, 3, 2);

        Assert.Equal([5f, 6f, 3f, 4f, 1f, 2f, 11f, 12f, 9f, 10f, 7f, 8f], image);
    }

    [Fact]
    public void BrightnessAddsWithoutClipping()
    {
        float[] image = [0, 200, 255];
        Preprocessing.AdjustBrightness(image, 60);
        Assert.Equal([60f, 260f, 315f], image);
    }

    [Fact]
    public void ContrastScalesAroundEachChannelsMean()
    {
        // Two pixels of two channels: channel means 2 and 20.
        float[] image = [1, 10, 3, 30];
        Preprocessing.AdjustContrast(image, 2, 1.5f);
        Assert.Equal([0.5f, 5f, 3.5f, 35f], image);
    }

    [Fact]
    public void CifarEvalIsTheCentralCropStandardised()
    {
        var image = Enumerable.Range(0, 3072).Select(i => (byte)(i * 37 % 251)).ToArray();
        var expected = new float[1728];
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 24; x++)
                for (int c = 0; c < 3; c++)
                    expected[(y * 24 + x) * 3 + c] = image[((y + 4) * 32 + x + 4) * 3 + c];
        double mean = expected.Average(v => (double)v);
        double std = Math.Sqrt(expected.Average(v => (v - mean) * (v - mean)));
        expected = expected.Select(v => (float)((v - mean) / std)).ToArray();
        var output = new float[1728];

        Preprocessing.CifarEval(image, output);

        AssertClose(expected, output);
    }

    [Fact]
    public void CifarTrainAppliesTheDrawsInTensorFlowsOrder()
    {
        var image = Enumerable.Range(0, 3072).Select(i => (byte)(i * 53 % 256)).ToArray();
        var distortion = new CifarDistortion(Top: 8, Left: 3, Flip: true, BrightnessDelta: -20, ContrastFactor: 0.5f);
        // Reference: crop at (8, 3), mirror columns, shift, per-channel contrast, standardise, in plain loops.
        var reference = new double[24 * 24 * 3];
        for (int y = 0; y < 24; y++)
            for (int x = 0; x < 24; x++)
                for (int c = 0; c < 3; c++)
                    reference[(y * 24 + x) * 3 + c] = image[((y + 8) * 32 + (23 - x) + 3) * 3 + c] - 20.0;
        for (int c = 0; c < 3; c++)
        {
            double channelMean = Enumerable.Range(0, 576).Average(p => reference[p * 3 + c]);
            for (int p = 0; p < 576; p++) reference[p * 3 + c] = (reference[p * 3 + c] - channelMean) * 0.5 + channelMean;
        }
        double mean = reference.Average();
        double std = Math.Sqrt(reference.Average(v => (v - mean) * (v - mean)));
        var output = new float[1728];

        Preprocessing.CifarTrain(image, output, distortion);

        AssertClose(reference.Select(v => (float)((v - mean) / std)).ToArray(), output, 1e-4f);
    }

    [Fact]
    public void BrightnessIsCancelledByStandardisation()
    {
        // docs/reference/op-semantics.md section 5's consequence of working on unclipped floats: only crop, flip and contrast change the result.
        var image = Enumerable.Range(0, 3072).Select(i => (byte)(i * 11 % 256)).ToArray();
        var dark = new float[1728];
        var bright = new float[1728];

        Preprocessing.CifarTrain(image, dark, new CifarDistortion(1, 2, false, -63, 1.3f));
        Preprocessing.CifarTrain(image, bright, new CifarDistortion(1, 2, false, 62.9f, 1.3f));

        AssertClose(dark, bright, 1e-4f);
    }

    [Fact]
    public void LeNetScalesAndPadsTwoZerosEachSide()
    {
        var image = Enumerable.Range(0, 784).Select(i => (byte)(i % 256)).ToArray();
        var output = Enumerable.Repeat(float.NaN, 1024).ToArray();

        Preprocessing.LeNet(image, output);

        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
            {
                bool inside = y is >= 2 and < 30 && x is >= 2 and < 30;
                float expected = inside ? image[(y - 2) * 28 + x - 2] / 255f : 0f;
                Assert.Equal(expected, output[y * 32 + x]);
            }
    }

    [Fact]
    public void ExampleSeedsDependOnSeedEpochAndIndexOnly()
    {
        ulong a = Preprocessing.ExampleSeed(1, 2, 3);
        Assert.Equal(a, Preprocessing.ExampleSeed(1, 2, 3));
        Assert.NotEqual(a, Preprocessing.ExampleSeed(2, 2, 3));
        Assert.NotEqual(a, Preprocessing.ExampleSeed(1, 3, 3));
        Assert.NotEqual(a, Preprocessing.ExampleSeed(1, 2, 4));
        Assert.NotEqual(Preprocessing.ExampleSeed(0, 1, 0), Preprocessing.ExampleSeed(0, 0, 1));
    }

    [Fact]
    public void WrongSizesAreRejectedWithTheExpectedSize()
    {
        var e = Assert.Throws<ArgumentException>(() => Preprocessing.CifarEval(new byte[784], new float[1728]));
        Assert.Contains("CifarEval: image holds 784 values, expected 32x32x3 = 3072", e.Message);
        e = Assert.Throws<ArgumentException>(() => Preprocessing.LeNet(new byte[784], new float[784]));
        Assert.Contains("LeNet: output holds 784 values, expected 32x32x1 = 1024", e.Message);
    }
}
