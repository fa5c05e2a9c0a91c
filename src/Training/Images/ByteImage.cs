using SkiaSharp;

namespace GpuDeconv.Training;

/// <summary>How the pixels of one image are ordered in memory (a batch adds a leading N).</summary>
public enum ImageLayout
{
    /// <summary>Height, width, channels: rows of interleaved pixels (TensorFlow's NHWC).</summary>
    Hwc,

    /// <summary>Channels, height, width: one plane per channel (PyTorch's NCHW).</summary>
    Chw,
}

/// <summary>
/// An 8-bit image with 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) channels, pixels in HWC order:
/// what image summaries and PNG files hold, and what <see cref="ImageFile"/> decodes image files to.
/// </summary>
public sealed class ByteImage
{
    /// <summary>Wraps <paramref name="pixels"/> (HWC, not copied) as a height x width x channels image.</summary>
    /// <exception cref="ArgumentException">A size is out of range or <paramref name="pixels"/> has the wrong length.</exception>
    public ByteImage(byte[] pixels, int height, int width, int channels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        CheckSize(pixels.Length, height, width, channels, nameof(pixels));
        Pixels = pixels;
        Height = height;
        Width = width;
        Channels = channels;
    }

    /// <summary>The pixels, height x width x channels bytes, rows top to bottom.</summary>
    public byte[] Pixels { get; }

    /// <summary>Rows.</summary>
    public int Height { get; }

    /// <summary>Columns.</summary>
    public int Width { get; }

    /// <summary>Bytes per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (also the TensorBoard colorspace number).</summary>
    public int Channels { get; }

    /// <summary>A copy of <paramref name="data"/> in HWC order, transposed from CHW when <paramref name="layout"/> says so.</summary>
    /// <exception cref="ArgumentException">A size is out of range or <paramref name="data"/> has the wrong length.</exception>
    public static ByteImage FromBytes(ReadOnlySpan<byte> data, int height, int width, int channels, ImageLayout layout)
    {
        CheckSize(data.Length, height, width, channels, nameof(data));
        var pixels = new byte[data.Length];
        if (layout == ImageLayout.Hwc)
            data.CopyTo(pixels);
        else
            ToHwc(data, pixels, height * width, channels);
        return new ByteImage(pixels, height, width, channels);
    }

    /// <summary>
    /// Converts a float image to bytes as TF1's <c>tf.summary.image</c> does, over the whole image: with
    /// min and max over the finite pixels, if min &lt; 0 then <c>u8 = trunc(v * 127 / max(|min|, |max|) + 128)</c>,
    /// otherwise <c>u8 = trunc(v * 255 / max)</c>; the scale is 0 when that maximum is below 1e-6; a pixel with
    /// any non-finite channel becomes red (255, 0, 0, 255 cut to the channel count, so gray gives 255).
    /// </summary>
    /// <remarks>So [0, 0.5, 1] gives [0, 127, 255] and [-2, 0, 1, 2] gives [1, 128, 191, 255]. The arithmetic is in
    /// single precision like TF's kernel (<c>summary_image_op.cc</c>), so results match it bit for bit.</remarks>
    /// <exception cref="ArgumentException">A size is out of range or <paramref name="data"/> has the wrong length.</exception>
    public static ByteImage FromFloats(ReadOnlySpan<float> data, int height, int width, int channels, ImageLayout layout)
    {
        CheckSize(data.Length, height, width, channels, nameof(data));
        int count = height * width;
        float[] hwc = new float[data.Length];
        if (layout == ImageLayout.Hwc)
            data.CopyTo(hwc);
        else
            ToHwc(data, hwc, count, channels);

        // Min and max over pixels whose channels are all finite, as TF skips a bad pixel entirely.
        float min = float.PositiveInfinity, max = float.NegativeInfinity;
        for (int p = 0; p < count; p++)
        {
            ReadOnlySpan<float> pixel = hwc.AsSpan(p * channels, channels);
            if (!AllFinite(pixel))
                continue;
            foreach (float v in pixel)
            {
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
        }

        const float ZeroThreshold = 1e-6f;
        float scale, offset;
        if (min < 0f)
        {
            float maxMagnitude = Math.Max(Math.Abs(min), Math.Abs(max));
            scale = maxMagnitude < ZeroThreshold ? 0f : 127f / maxMagnitude;
            offset = 128f;
        }
        else
        {
            scale = max < ZeroThreshold ? 0f : 255f / max;
            offset = 0f;
        }

        ReadOnlySpan<byte> badColor = [255, 0, 0, 255];
        var pixels = new byte[data.Length];
        for (int p = 0; p < count; p++)
        {
            ReadOnlySpan<float> pixel = hwc.AsSpan(p * channels, channels);
            Span<byte> target = pixels.AsSpan(p * channels, channels);
            if (!AllFinite(pixel))
            {
                badColor[..channels].CopyTo(target);
                continue;
            }
            for (int c = 0; c < channels; c++)
            {
                // Truncation toward zero, as C++'s float-to-uint8 cast; the clamp only guards rounding
                // at the ends (v * (255 / max) may land a hair above 255).
                float scaled = pixel[c] * scale + offset;
                target[c] = (byte)Math.Clamp((int)scaled, 0, 255);
            }
        }
        return new ByteImage(pixels, height, width, channels);
    }

    /// <summary>
    /// This image as a PNG file, encoded by SkiaSharp (libpng): gray as 8-bit gray, RGB as RGB, RGBA as RGBA with the
    /// alpha kept apart from the colours (not premultiplied); gray+alpha, which Skia's encoder cannot write, as RGBA
    /// with the gray in all three colours. The same pixels always give the same bytes.
    /// </summary>
    /// <exception cref="InvalidOperationException">SkiaSharp could not encode the image (its native library failed).</exception>
    public byte[] EncodePng()
    {
        using var image = ToSkImage();
        using var pixmap = image.PeekPixels();
        using var png = new MemoryStream();
        // zlib level 6 with libpng's adaptive filter choice (every filter tried per row), libpng's own defaults.
        if (pixmap is null || !pixmap.Encode(png, new SKPngEncoderOptions(SKPngEncoderFilterFlags.AllFilters, 6)))
            throw new InvalidOperationException($"ByteImage: SkiaSharp could not encode a {Height}x{Width}x{Channels} image as PNG.");
        return png.ToArray();
    }

    /// <summary>
    /// Writes <see cref="EncodePng"/> to <paramref name="path"/> (creating its folder), replacing any file there only once
    /// the new one is complete on disk (temporary file, flush, rename): a crash never leaves half an image.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file cannot be written; a previous file there is unchanged.</exception>
    public void SavePng(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] png = EncodePng();
        AtomicFile.Write(path, stream => stream.Write(png));
    }

    /// <summary>
    /// This image enlarged <paramref name="factor"/> times along each side by repeating every pixel in a factor x factor
    /// block (nearest neighbour), so small panels stay sharp where a viewer would blur them; factor 1 gives this image.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is below 1, or the result would not fit one array.</exception>
    public ByteImage Upscale(int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        if (factor == 1) return this;
        long height = (long)Height * factor, width = (long)Width * factor;
        if (height > int.MaxValue || width > int.MaxValue || height * width * Channels > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(factor), factor, $"ByteImage: a {Height}x{Width}x{Channels} image enlarged {factor} times does not fit one array.");
        int rowBytes = Width * Channels, bigRowBytes = (int)width * Channels;
        var pixels = new byte[height * width * Channels];
        for (int y = 0; y < Height; y++)
        {
            // One enlarged row, then copies of it for the other factor - 1 rows of the block.
            Span<byte> first = pixels.AsSpan(y * factor * bigRowBytes, bigRowBytes);
            ReadOnlySpan<byte> source = Pixels.AsSpan(y * rowBytes, rowBytes);
            for (int x = 0; x < Width; x++)
            {
                ReadOnlySpan<byte> pixel = source.Slice(x * Channels, Channels);
                for (int k = 0; k < factor; k++) pixel.CopyTo(first[((x * factor + k) * Channels)..]);
            }
            for (int k = 1; k < factor; k++) first.CopyTo(pixels.AsSpan((y * factor + k) * bigRowBytes, bigRowBytes));
        }
        return new ByteImage(pixels, (int)height, (int)width, Channels);
    }

    /// <summary>
    /// The central <paramref name="height"/> x <paramref name="width"/> window (top-left corner at
    /// ((Height - height) / 2, (Width - width) / 2), rounded down, as TF's central crop and
    /// <see cref="Preprocessing.CropOrPad"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or larger than the image's.</exception>
    public ByteImage CenterCrop(int height, int width)
    {
        if (height < 1 || width < 1 || height > Height || width > Width)
            throw new ArgumentOutOfRangeException(nameof(height), $"ByteImage: a {height}x{width} crop must be at least 1x1 and fit the {Height}x{Width} image.");
        int top = (Height - height) / 2, left = (Width - width) / 2;
        var pixels = new byte[height * width * Channels];
        for (int y = 0; y < height; y++)
            Pixels.AsSpan(((top + y) * Width + left) * Channels, width * Channels).CopyTo(pixels.AsSpan(y * width * Channels));
        return new ByteImage(pixels, height, width, Channels);
    }

    /// <summary>
    /// This image resized to <paramref name="height"/> x <paramref name="width"/> with PIL's antialiased bilinear filter
    /// (what torchvision's <c>Resize</c> uses): each output pixel is the triangle-weighted mean of the input pixels under
    /// it, the triangle widened by the scale factor when shrinking, so a fine pattern averages out instead of aliasing.
    /// Rows and columns are filtered in single precision and rounded to bytes once, at the end (PIL rounds after each
    /// pass, so values may differ from PIL's by 1).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1, or the result would not fit one array.</exception>
    public ByteImage Resize(int height, int width)
    {
        if (height < 1 || width < 1 || (long)height * width * Channels > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(height), $"ByteImage: cannot resize to {height}x{width}; sizes must be at least 1 and the image fit one array.");
        if (height == Height && width == Width) return new ByteImage((byte[])Pixels.Clone(), Height, Width, Channels);
        // Columns first (Height x width), then rows (height x width), as PIL does when the width changes.
        var columns = ResampleWeights(Width, width);
        var rows = ResampleWeights(Height, height);
        var across = new float[(long)Height * width * Channels];
        for (int y = 0; y < Height; y++)
        {
            int source = y * Width * Channels, target = y * width * Channels;
            for (int x = 0; x < width; x++)
            {
                var (first, weights) = columns[x];
                for (int c = 0; c < Channels; c++)
                {
                    float sum = 0;
                    for (int k = 0; k < weights.Length; k++) sum += weights[k] * Pixels[source + (first + k) * Channels + c];
                    across[target + x * Channels + c] = sum;
                }
            }
        }
        var pixels = new byte[height * width * Channels];
        int rowLength = width * Channels;
        for (int y = 0; y < height; y++)
        {
            var (first, weights) = rows[y];
            for (int i = 0; i < rowLength; i++)
            {
                float sum = 0;
                for (int k = 0; k < weights.Length; k++) sum += weights[k] * across[(long)(first + k) * rowLength + i];
                pixels[y * rowLength + i] = (byte)Math.Clamp(MathF.Round(sum), 0f, 255f);
            }
        }
        return new ByteImage(pixels, height, width, Channels);
    }

    /// <summary>
    /// This image resized (<see cref="Resize"/>) so that its shorter side is <paramref name="size"/> and the longer side
    /// keeps the aspect ratio, rounded down as torchvision's <c>Resize(size)</c> does (a 300x451 image to 256 gives 256x384).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 1, or the result would not fit one array.</exception>
    public ByteImage ResizeShorterSide(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        (int height, int width) = Height <= Width
            ? (size, (int)Math.Max(1, (long)size * Width / Height))
            : ((int)Math.Max(1, (long)size * Height / Width), size);
        return Resize(height, width);
    }

    // PIL's resampling coefficients (Imaging/Resample.c, precompute_coeffs) for the bilinear (triangle) filter: output
    // pixel i covers input centre (i + 0.5) * scale with support max(scale, 1); weights are normalised to sum to 1.
    static (int First, float[] Weights)[] ResampleWeights(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterScale;      // the triangle's support is 1, widened by the filter scale
        var result = new (int, float[])[outSize];
        for (int i = 0; i < outSize; i++)
        {
            double centre = (i + 0.5) * scale;
            int first = Math.Max(0, (int)Math.Truncate(centre - support + 0.5));
            int last = Math.Min(inSize, (int)Math.Truncate(centre + support + 0.5));
            var weights = new double[last - first];
            double total = 0;
            for (int k = 0; k < weights.Length; k++)
            {
                double distance = (first + k - centre + 0.5) / filterScale;
                weights[k] = Math.Max(0, 1 - Math.Abs(distance));
                total += weights[k];
            }
            result[i] = (first, [.. weights.Select(w => (float)(total > 0 ? w / total : 0))]);
        }
        return result;
    }

    /// <summary>
    /// These pixels as a Skia image (for encoding and drawing): gray as Gray8, RGB as Rgb888x (RGB plus an unused byte),
    /// RGBA as unpremultiplied Rgba8888; gray+alpha and RGB are widened to 4 bytes a pixel first.
    /// </summary>
    /// <exception cref="InvalidOperationException">SkiaSharp could not take the pixels (its native library failed).</exception>
    internal SKImage ToSkImage()
    {
        (SKColorType type, SKAlphaType alpha, int bytesPerPixel) = Channels switch
        {
            1 => (SKColorType.Gray8, SKAlphaType.Opaque, 1),
            3 => (SKColorType.Rgb888x, SKAlphaType.Opaque, 4),
            _ => (SKColorType.Rgba8888, SKAlphaType.Unpremul, 4),
        };
        byte[] skia = Channels is 1 or 4 ? Pixels : Widen(Pixels, Channels);
        return SKImage.FromPixelCopy(new SKImageInfo(Width, Height, type, alpha), skia, Width * bytesPerPixel)
            ?? throw new InvalidOperationException($"ByteImage: SkiaSharp could not take a {Height}x{Width}x{Channels} image.");
    }

    /// <summary>RGB of <paramref name="rgba"/> (4 bytes a pixel, e.g. what Skia decodes or draws), the alpha dropped.</summary>
    internal static ByteImage FromRgba(ReadOnlySpan<byte> rgba, int height, int width)
    {
        long pixels = (long)height * width;
        var rgb = new byte[pixels * 3];
        for (long p = 0; p < pixels; p++)
        {
            rgb[3 * p] = rgba[(int)(4 * p)];
            rgb[3 * p + 1] = rgba[(int)(4 * p + 1)];
            rgb[3 * p + 2] = rgba[(int)(4 * p + 2)];
        }
        return new ByteImage(rgb, height, width, 3);
    }

    // Gray+alpha or RGB to the 4 bytes a pixel Skia encodes: gray, gray, gray, alpha or R, G, B, unused.
    static byte[] Widen(byte[] pixels, int channels)
    {
        int count = pixels.Length / channels;
        var wide = new byte[count * 4];
        for (int p = 0; p < count; p++)
        {
            if (channels == 3)
            {
                wide[4 * p] = pixels[3 * p];
                wide[4 * p + 1] = pixels[3 * p + 1];
                wide[4 * p + 2] = pixels[3 * p + 2];
                wide[4 * p + 3] = 255;
            }
            else
            {
                wide[4 * p] = wide[4 * p + 1] = wide[4 * p + 2] = pixels[2 * p];
                wide[4 * p + 3] = pixels[2 * p + 1];
            }
        }
        return wide;
    }

    static bool AllFinite(ReadOnlySpan<float> pixel)
    {
        foreach (float v in pixel)
            if (!float.IsFinite(v))
                return false;
        return true;
    }

    static void ToHwc<T>(ReadOnlySpan<T> chw, Span<T> hwc, int pixelCount, int channels)
    {
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < pixelCount; p++)
                hwc[p * channels + c] = chw[c * pixelCount + p];
    }

    internal static void CheckSize(long length, int height, int width, int channels, string paramName)
    {
        if (height < 1 || width < 1)
            throw new ArgumentOutOfRangeException(paramName, $"Image: height and width must be at least 1, but are {height} and {width}.");
        if (channels is < 1 or > 4)
            throw new ArgumentOutOfRangeException(paramName, $"Image: channels must be 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA), but is {channels}.");
        long expected = (long)height * width * channels;
        if (length != expected)
            throw new ArgumentException(
                $"Image: {length} values given, but a {height}x{width}x{channels} image holds {expected}.", paramName);
    }
}
