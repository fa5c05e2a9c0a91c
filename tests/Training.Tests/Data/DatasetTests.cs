using Xunit;

namespace GpuDeconv.Training.Tests;

public class DatasetTests
{
    private static Dataset TwoByTwo() => new(
        "tiny", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24],
        [1, 0], height: 2, width: 2, channels: 3, ["a", "b"]);

    [Fact]
    public void ImagesAreConsecutiveHwcSlices()
    {
        var data = TwoByTwo();
        Assert.Equal(2, data.Count);
        Assert.Equal(12, data.ImageSize);
        Assert.Equal(new Layers.Shape(2, 2, 3), data.ImageShape);
        Assert.Equal(new byte[] { 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24 }, data.ImageSpan(1).ToArray());
        Assert.Equal(0, data.Label(1));
        Assert.Equal(["a", "b"], data.ClassNames);
    }

    [Fact]
    public void CopyImageGivesTheByteValuesAsFloats()
    {
        var image = new float[12];
        TwoByTwo().CopyImage(0, image);
        Assert.Equal(Enumerable.Range(1, 12).Select(v => (float)v), image);
    }

    [Fact]
    public void SliceCopiesTheRange()
    {
        var slice = TwoByTwo().Slice(1, 1);
        Assert.Equal(1, slice.Count);
        Assert.Equal(13, slice.ImageSpan(0)[0]);
        Assert.Equal(0, slice.Label(0));
    }

    [Fact]
    public void PixelCountMustMatchTheLabels()
    {
        var e = Assert.Throws<ArgumentException>(() => new Dataset("tiny", new byte[23], [0, 0], 2, 2, 3, ["a"]));
        Assert.Contains("2 labels of 2x2x3 images need 24 pixel bytes, but pixels holds 23", e.Message);
    }

    [Fact]
    public void LabelsMustBeClassIndices()
    {
        var e = Assert.Throws<ArgumentException>(() => new Dataset("tiny", new byte[24], [0, 2], 2, 2, 3, ["a", "b"]));
        Assert.Contains("label 1 is 2, but there are 2 classes (labels 0..1)", e.Message);
    }

    [Fact]
    public void IndexOutsideTheSetIsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TwoByTwo().ImageSpan(2).Length);
        Assert.Contains("image 2 is outside 0..1", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => TwoByTwo().Slice(1, 2));
    }
}
