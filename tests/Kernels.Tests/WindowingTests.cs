using Xunit;

namespace GpuDeconv.Kernels.Tests;

// docs/reference/op-semantics.md section 1 (window arithmetic) and the worked sizes of sections 1 and 7.
public sealed class WindowingTests
{
    [Theory]
    [InlineData(24, 5, 1, Padding.Same, 24, 2, 2)]    // CIFAR conv1
    [InlineData(24, 2, 2, Padding.Same, 12, 0, 0)]    // CIFAR pool1
    [InlineData(6, 6, 6, Padding.Same, 1, 0, 0)]      // the 6x6 average pool
    [InlineData(32, 5, 1, Padding.Valid, 28, 0, 0)]   // LeNet conv1
    [InlineData(3, 2, 2, Padding.Same, 2, 0, 1)]      // 7(c): the odd cell goes after the data
    [InlineData(97, 3, 4, Padding.Same, 25, 1, 1)]    // 7(f)
    [InlineData(100, 3, 4, Padding.Same, 25, 0, 0)]   // 7(f): P = -1 clamps to 0
    [InlineData(4, 2, 2, Padding.Valid, 2, 0, 0)]     // 7(a)
    [InlineData(4, 5, 1, Padding.Valid, 0, 0, 0)]     // n - k + s = 0: an empty output is allowed
    [InlineData(5, 1, 3, Padding.Valid, 2, 0, 0)]     // stride larger than the kernel
    public void MatchesTensorFlow(int input, int kernel, int stride, Padding padding, int output, int before, int after)
    {
        var size = Windowing.Compute("Test", "height", input, kernel, stride, 1, padding);
        Assert.Equal(new WindowedSize(output, before, after), size);
    }

    [Fact]
    public void DilationWidensTheWindow()
    {
        // e = (3-1)*2 + 1 = 5: VALID 7 -> 3, SAME 7 -> 7 with P = 4.
        Assert.Equal(new WindowedSize(3, 0, 0), Windowing.Compute("Test", "width", 7, 3, 1, 2, Padding.Valid));
        Assert.Equal(new WindowedSize(7, 2, 2), Windowing.Compute("Test", "width", 7, 3, 1, 2, Padding.Same));
    }

    [Fact]
    public void NegativeValidOutputNamesOpAndSizes()
    {
        var error = Assert.Throws<ArgumentException>(() => Windowing.Compute("Conv2d", "height", 3, 5, 1, 1, Padding.Valid));
        Assert.Contains("Conv2d", error.Message);
        Assert.Contains("height of 3", error.Message);
        Assert.Contains("window of 5", error.Message);
    }

    [Fact]
    public void ShapePrintsLikeTheDocs()
    {
        Shape shape = new[] { 128, 24, 24, 3 };
        Assert.Equal("[128, 24, 24, 3]", shape.ToString());
        Assert.Equal(128L * 24 * 24 * 3, shape.Size);
        Assert.Equal(new Shape(128, 24, 24, 3), shape);
        Assert.Throws<ArgumentException>(() => new Shape(2, -1));
    }
}
