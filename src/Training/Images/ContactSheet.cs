using SkiaSharp;

namespace GpuDeconv.Training;

/// <summary>A labelled picture of many small images on one sheet: tiles in rows, each with up to two caption lines under it.</summary>
public static class ContactSheet
{
    private const int Gap = 8;
    private const float FontSize = 13f;

    /// <summary>
    /// Lays out <paramref name="tiles"/> (each enlarged <paramref name="scale"/> times, nearest neighbour) left to right in
    /// rows of <paramref name="columns"/>, with each tile's caption lines under it, on a white sheet; returns RGB pixels.
    /// Tiles may differ in size (each cell is as large as the largest tile).
    /// </summary>
    /// <exception cref="ArgumentException">No tiles, or columns or scale below 1.</exception>
    public static ByteImage Draw(IReadOnlyList<(ByteImage Image, string[] Caption)> tiles, int columns, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        if (tiles.Count == 0) throw new ArgumentException("ContactSheet: needs at least one tile.", nameof(tiles));
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        using var typeface = SKTypeface.FromFamilyName("DejaVu Sans") ?? SKTypeface.Default;
        using var font = new SKFont(typeface, FontSize);
        using var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        int lines = tiles.Max(t => t.Caption.Length);
        int lineHeight = (int)Math.Ceiling(FontSize * 1.3f);
        int cellWidth = tiles.Max(t => t.Image.Width) * scale;
        int captionWidth = (int)Math.Ceiling(tiles.SelectMany(t => t.Caption).Select(line => font.MeasureText(line)).DefaultIfEmpty(0).Max());
        cellWidth = Math.Max(cellWidth, captionWidth);
        int cellHeight = tiles.Max(t => t.Image.Height) * scale + lines * lineHeight + 4;
        int cols = Math.Min(columns, tiles.Count), rows = (tiles.Count + cols - 1) / cols;
        int width = Gap + cols * (cellWidth + Gap), height = Gap + rows * (cellHeight + Gap);

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(SKColors.White);
            for (int i = 0; i < tiles.Count; i++)
            {
                var (image, caption) = tiles[i];
                int x = Gap + i % cols * (cellWidth + Gap), y = Gap + i / cols * (cellHeight + Gap);
                using var tile = image.Upscale(scale).ToSkImage();
                canvas.DrawImage(tile, x, y, new SKSamplingOptions(SKFilterMode.Nearest));
                for (int line = 0; line < caption.Length; line++)
                    canvas.DrawText(caption[line], x, y + image.Height * scale + (line + 1) * lineHeight, SKTextAlign.Left, font, ink);
            }
        }
        return ByteImage.FromRgba(bitmap.Bytes, height, width);
    }
}
