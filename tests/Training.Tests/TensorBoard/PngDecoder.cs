using System.Buffers.Binary;
using System.Text;
using SkiaSharp;
using Xunit;

namespace GpuDeconv.Training.Tests;

/// <summary>A decoded 8-bit PNG: size, colour type and interleaved pixels.</summary>
public sealed record DecodedPng(int Width, int Height, int ColorType, int Channels, byte[] Pixels);

/// <summary>
/// Decodes the PNG files the project writes: the signature and the IHDR fields (size, 8-bit depth, colour type, no
/// interlace) are read from the bytes, the pixels through SkiaSharp's decoder (libpng, which checks every critical
/// chunk's CRC), and the pixels come back in the file's own channels (gray, gray+alpha, RGB or RGBA).
/// </summary>
public static class PngDecoder
{
    static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static DecodedPng Decode(byte[] png)
    {
        Assert.True(png.AsSpan().StartsWith(Signature), "PNG signature missing");
        Assert.Equal("IHDR", Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal(13, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(8)));
        int width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16));
        int height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
        Assert.Equal(8, png[24]);     // bit depth
        int colorType = png[25];
        Assert.Equal(0, png[28]);     // no interlace
        int channels = colorType switch { 0 => 1, 4 => 2, 2 => 3, 6 => 4, _ => throw new InvalidDataException($"colour type {colorType}") };

        using var stream = new SKMemoryStream(png);
        using var codec = SKCodec.Create(stream, out var opened);
        Assert.Equal(SKCodecResult.Success, opened);
        Assert.Equal(SKEncodedImageFormat.Png, codec.EncodedFormat);
        Assert.Equal((width, height), (codec.Info.Width, codec.Info.Height));
        // Gray as gray; everything else as unpremultiplied RGBA (gray+alpha gives the gray in R, G and B).
        var info = colorType == 0
            ? new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque)
            : new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var decoded = new byte[info.BytesSize];
        Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, decoded));
        if (colorType == 0) return new DecodedPng(width, height, colorType, channels, decoded);

        var pixels = new byte[width * height * channels];
        for (int p = 0; p < width * height; p++)
        {
            ReadOnlySpan<byte> rgba = decoded.AsSpan(4 * p, 4);
            Span<byte> target = pixels.AsSpan(p * channels, channels);
            if (channels == 2) (target[0], target[1]) = (rgba[0], rgba[3]);
            else rgba[..channels].CopyTo(target);
        }
        return new DecodedPng(width, height, colorType, channels, pixels);
    }
}
