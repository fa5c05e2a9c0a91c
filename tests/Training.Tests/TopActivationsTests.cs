using Xunit;

namespace GpuDeconv.Training.Tests;

public class TopActivationsTests
{
    [Fact]
    public void BestKeepsTheNineLargestWithTiesInIndexOrder()
    {
        //                 0     1    2          3   4   5   6     7   8    9   10  11
        float[] scores = [0.5f, 2f, float.NaN, 2f, 1f, 3f, 0.5f, 2f, -1f, 0f, 7f, 2f];

        int[] best = TopActivations.Best(scores, TopActivations.Count);

        // 7, 3, the four 2s in index order, 1, the two 0.5s in index order; 0, -1 and NaN are left out.
        Assert.Equal([10, 5, 1, 3, 7, 11, 4, 0, 6], best);
    }

    [Fact]
    public void BestReturnsEveryIndexWhenThereAreFewerScoresAndRanksNaNLast()
    {
        Assert.Equal([1, 2, 0], TopActivations.Best([float.NaN, 1f, 1f], TopActivations.Count));
        Assert.Empty(TopActivations.Best([], TopActivations.Count));
    }

    [Fact]
    public void BestRejectsANegativeCount()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TopActivations.Best([1f], -1));
        Assert.Contains("must be 0 or more", e.Message);
    }

    [Fact]
    public void GridPutsEachImageNextToItsProjectionEachScaledOnItsOwn()
    {
        // Two 1x2 gray cells. Images [0, 1] and [2, 4] scale to [0, 255] and [127, 255]; projection [-1, 1] has a
        // negative minimum, so v * 127 / 1 + 128 gives [1, 255]; the all-zero projection stays 0.
        float[] images = [0f, 1f, 2f, 4f];
        float[] projections = [-1f, 1f, 0f, 0f];

        var grid = TopActivations.Grid(images, projections, count: 2, height: 1, width: 2, channels: 1);

        // Two cells of 1x4 in one row, 1 black pixel around and between them.
        Assert.Equal((3, 11, 1), (grid.Height, grid.Width, grid.Channels));
        Assert.Equal(new byte[11], grid.Pixels[..11]);
        Assert.Equal([0, 0, 255, 1, 255, 0, 127, 255, 0, 0, 0], grid.Pixels[11..22]);
        Assert.Equal(new byte[11], grid.Pixels[22..]);
    }

    [Fact]
    public void GridNamesTheSizesWhenASpanIsTooShort()
    {
        var e = Assert.Throws<ArgumentException>(() => TopActivations.Grid(new float[8], new float[7], count: 2, height: 2, width: 2, channels: 1));
        Assert.Contains("2 cells of [2, 2, 1] need 8 values each, but images hold 8 and projections 7", e.Message);
    }
}
