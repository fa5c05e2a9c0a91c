namespace GpuDeconv.Training;

/// <summary>Tiles equally sized images into one grid image, as TensorBoard's <c>make_grid</c> does for <c>add_images</c>.</summary>
public static class ImageGrid
{
    /// <summary>The most columns a grid has unless told otherwise (<c>make_grid</c>'s default).</summary>
    public const int DefaultColumns = 8;

    /// <summary>
    /// One image holding <paramref name="images"/> row-major in <c>min(N, columns)</c> columns and
    /// <c>ceil(N / columns)</c> rows, with <paramref name="padding"/> pixels of <paramref name="background"/>
    /// around and between the cells; unused cells are <paramref name="background"/> too (black by default).
    /// </summary>
    /// <remarks>With padding 0 this is exactly <c>make_grid</c> of tensorboardX and PyTorch, except that gray stays
    /// gray: the grid has the images' channel count.</remarks>
    /// <exception cref="ArgumentException">The list is empty, the images differ in size or channels, or <paramref name="columns"/> &lt; 1 or <paramref name="padding"/> &lt; 0.</exception>
    public static ByteImage Tile(IReadOnlyList<ByteImage> images, int columns = DefaultColumns, int padding = 0, byte background = 0)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
            throw new ArgumentException("ImageGrid: there are no images to tile.", nameof(images));
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        ByteImage first = images[0] ?? throw new ArgumentException("ImageGrid: image 0 is null.", nameof(images));
        int h = first.Height, w = first.Width, ch = first.Channels;
        for (int i = 1; i < images.Count; i++)
        {
            ByteImage image = images[i] ?? throw new ArgumentException($"ImageGrid: image {i} is null.", nameof(images));
            if (image.Height != h || image.Width != w || image.Channels != ch)
                throw new ArgumentException(
                    $"ImageGrid: image {i} is {image.Height}x{image.Width}x{image.Channels}, but image 0 is {h}x{w}x{ch}; all cells must match.",
                    nameof(images));
        }

        int cols = Math.Min(images.Count, columns);
        int rows = (images.Count + cols - 1) / cols;
        long gridHeight = (long)rows * (h + padding) + padding;
        long gridWidth = (long)cols * (w + padding) + padding;
        if (gridHeight * gridWidth * ch > Array.MaxLength || gridHeight > int.MaxValue || gridWidth > int.MaxValue)
            throw new ArgumentException($"ImageGrid: a {gridHeight}x{gridWidth}x{ch} grid is larger than one array can hold.", nameof(images));

        var pixels = new byte[gridHeight * gridWidth * ch];
        if (background != 0)
            pixels.AsSpan().Fill(background);
        int gridRowBytes = (int)gridWidth * ch, cellRowBytes = w * ch;
        for (int i = 0; i < images.Count; i++)
        {
            int top = padding + i / cols * (h + padding);
            int left = padding + i % cols * (w + padding);
            for (int y = 0; y < h; y++)
                images[i].Pixels.AsSpan(y * cellRowBytes, cellRowBytes)
                    .CopyTo(pixels.AsSpan((top + y) * gridRowBytes + left * ch));
        }
        return new ByteImage(pixels, (int)gridHeight, (int)gridWidth, ch);
    }
}
