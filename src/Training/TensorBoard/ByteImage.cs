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
/// what image summaries and PNG files hold.
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

    /// <summary>This image as a PNG file.</summary>
    public byte[] EncodePng() => PngEncoder.Encode(Pixels, Height, Width, Channels);

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
