namespace GpuDeconv.Training;

/// <summary>
/// Zeiler and Fergus's picture of what a feature map responds to: the images that excite it most, each next to the
/// deconvnet projection of its strongest activation, in a 3x3 grid (Visualizing and Understanding Convolutional
/// Networks, 2014, figure 2).
/// </summary>
public static class TopActivations
{
    /// <summary>Images per grid (Zeiler and Fergus's top 9).</summary>
    public const int Count = 9;

    /// <summary>Cells per grid row.</summary>
    public const int Columns = 3;

    /// <summary>
    /// The indices of the <paramref name="count"/> largest <paramref name="scores"/> (all of them when there are fewer),
    /// largest first; equal scores keep the lower index first and NaN ranks below every number.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    public static int[] Best(ReadOnlySpan<float> scores, int count)
    {
        if (count < 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "TopActivations.Best: the number of images to keep must be 0 or more.");
        var values = scores.ToArray();
        var order = Enumerable.Range(0, values.Length).ToArray();
        // An explicit index tie-break, because Array.Sort is not stable.
        Array.Sort(order, (a, b) =>
        {
            float x = values[a], y = values[b];
            if (float.IsNaN(x) != float.IsNaN(y)) return float.IsNaN(x) ? 1 : -1;
            int byScore = float.IsNaN(x) ? 0 : y.CompareTo(x);
            return byScore != 0 ? byScore : a.CompareTo(b);
        });
        return order[..Math.Min(count, order.Length)];
    }

    /// <summary>
    /// The grid of <paramref name="count"/> cells, each <c>[image | projection]</c> side by side (a cell is
    /// height x 2*width), in <see cref="Columns"/> columns with 1 black pixel around and between the cells. Images and
    /// projections are [count, height, width, channels] HWC floats; each half of a cell is scaled on its own as TF's
    /// <c>summary.image</c> does (<see cref="ByteImage.FromFloats"/>), so a weak projection is as visible as a strong one.
    /// </summary>
    /// <exception cref="ArgumentException">The count or a size is not positive, or a span does not hold count x height x width x channels values.</exception>
    public static ByteImage Grid(ReadOnlySpan<float> images, ReadOnlySpan<float> projections, int count, int height, int width, int channels)
    {
        if (count <= 0 || height <= 0 || width <= 0 || channels <= 0)
            throw new ArgumentException($"TopActivations.Grid: count {count}, height {height}, width {width} and channels {channels} must all be positive.", nameof(count));
        long expected = (long)count * height * width * channels;
        if (images.Length != expected || projections.Length != expected)
            throw new ArgumentException(
                $"TopActivations.Grid: {count} cells of [{height}, {width}, {channels}] need {expected} values each, but images hold {images.Length} and projections {projections.Length}.",
                nameof(images));
        int size = height * width * channels, row = width * channels;
        var cells = new ByteImage[count];
        for (int i = 0; i < count; i++)
        {
            var image = ByteImage.FromFloats(images.Slice(i * size, size), height, width, channels, ImageLayout.Hwc);
            var projection = ByteImage.FromFloats(projections.Slice(i * size, size), height, width, channels, ImageLayout.Hwc);
            var pixels = new byte[2 * size];
            for (int y = 0; y < height; y++)
            {
                image.Pixels.AsSpan(y * row, row).CopyTo(pixels.AsSpan(2 * y * row, row));
                projection.Pixels.AsSpan(y * row, row).CopyTo(pixels.AsSpan((2 * y + 1) * row, row));
            }
            cells[i] = new ByteImage(pixels, height, 2 * width, channels);
        }
        return ImageGrid.Tile(cells, Columns, padding: 1);
    }
}
