using Xunit;

namespace GpuDeconv.Training.Tests;

public class ImageGridTests
{
    static ByteImage Filled(byte value, int height = 2, int width = 3, int channels = 1) =>
        new(Enumerable.Repeat(value, height * width * channels).ToArray(), height, width, channels);

    [Fact]
    public void TilesRowMajorWithEightColumnsAndBlackUnusedCells()
    {
        ByteImage[] images = [.. Enumerable.Range(1, 10).Select(i => Filled((byte)(i * 10)))];
        ByteImage grid = ImageGrid.Tile(images);
        Assert.Equal(2 * 2, grid.Height);
        Assert.Equal(8 * 3, grid.Width);
        Assert.Equal(1, grid.Channels);
        for (int y = 0; y < grid.Height; y++)
            for (int x = 0; x < grid.Width; x++)
            {
                int cell = y / 2 * 8 + x / 3;
                byte expected = cell < 10 ? (byte)((cell + 1) * 10) : (byte)0;
                Assert.True(expected == grid.Pixels[y * grid.Width + x], $"({y},{x}): {grid.Pixels[y * grid.Width + x]}, expected {expected}");
            }
    }

    [Fact]
    public void FewerImagesThanColumnsMakeOneRow()
    {
        ByteImage grid = ImageGrid.Tile([Filled(1), Filled(2), Filled(3)]);
        Assert.Equal((2, 9), (grid.Height, grid.Width));
    }

    [Fact]
    public void PaddingSurroundsAndSeparatesCells()
    {
        // Two 1x1 RGB cells in two columns with 1 pixel of padding value 9: 3x5 pixels.
        ByteImage a = new([1, 2, 3], 1, 1, 3), b = new([4, 5, 6], 1, 1, 3);
        ByteImage grid = ImageGrid.Tile([a, b], columns: 2, padding: 1, background: 9);
        Assert.Equal((3, 5, 3), (grid.Height, grid.Width, grid.Channels));
        byte[] nine = [9, 9, 9];
        byte[] expected = [.. nine, .. nine, .. nine, .. nine, .. nine,
                           .. nine, 1, 2, 3, .. nine, 4, 5, 6, .. nine,
                           .. nine, .. nine, .. nine, .. nine, .. nine];
        Assert.Equal(expected, grid.Pixels);
    }

    [Fact]
    public void RejectsMismatchedCells()
    {
        var error = Assert.Throws<ArgumentException>(() => ImageGrid.Tile([Filled(1), Filled(1, height: 3)]));
        Assert.Contains("image 1 is 3x3x1", error.Message);
        Assert.Throws<ArgumentException>(() => ImageGrid.Tile([]));
    }
}
