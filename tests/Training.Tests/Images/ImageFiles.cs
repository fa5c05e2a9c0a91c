using System.Buffers.Binary;
using System.Text;
using SkiaSharp;

namespace GpuDeconv.Training.Tests;

/// <summary>
/// Writes small image files for the reader's tests: PNG, JPEG and WebP through SkiaSharp's encoders, BMP and GIF by
/// hand from their specifications, and PNG chunks with their CRC-32 (ISO 3309) for files no encoder would write.
/// </summary>
internal static class ImageFiles
{
    /// <summary>Distinct colours in blocks, so that transpositions and flips show and JPEG keeps them apart.</summary>
    public static ByteImage Blocks(int height, int width, int block = 4)
    {
        var pixels = new byte[height * width * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int by = y / block, bx = x / block;
                pixels[(y * width + x) * 3] = (byte)(40 + 60 * (bx % 4));
                pixels[(y * width + x) * 3 + 1] = (byte)(30 + 70 * (by % 3));
                pixels[(y * width + x) * 3 + 2] = (byte)(200 - 50 * ((bx + by) % 4));
            }
        return new ByteImage(pixels, height, width, 3);
    }

    /// <summary>A baseline JPEG with full-resolution colour (4:4:4), so sharp colour edges survive.</summary>
    public static byte[] Jpeg(ByteImage rgb, int quality = 95) =>
        Encode(rgb, pixmap => pixmap.Encode(new SKJpegEncoderOptions(quality, SKJpegEncoderDownsample.Downsample444, SKJpegEncoderAlphaOption.Ignore)));

    public static byte[] WebpLossless(ByteImage rgb) => Encode(rgb, pixmap => pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100)));

    static byte[] Encode(ByteImage rgb, Func<SKPixmap, SKData?> encode)
    {
        var rgba = new byte[rgb.Height * rgb.Width * 4];
        for (int p = 0; p < rgb.Height * rgb.Width; p++)
        {
            rgb.Pixels.AsSpan(3 * p, 3).CopyTo(rgba.AsSpan(4 * p));
            rgba[4 * p + 3] = 255;
        }
        using var image = SKImage.FromPixelCopy(new SKImageInfo(rgb.Width, rgb.Height, SKColorType.Rgba8888, SKAlphaType.Opaque), rgba);
        using var pixmap = image.PeekPixels();
        using var data = encode(pixmap) ?? throw new InvalidOperationException("Skia could not encode the test image.");
        return data.ToArray();
    }

    /// <summary>A 24-bit BMP (BITMAPFILEHEADER + BITMAPINFOHEADER, rows bottom-up as BGR, each padded to 4 bytes).</summary>
    public static byte[] Bmp(ByteImage rgb)
    {
        int rowBytes = (rgb.Width * 3 + 3) / 4 * 4;
        var file = new byte[54 + rowBytes * rgb.Height];
        "BM"u8.CopyTo(file);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(2), file.Length);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(10), 54);        // pixel data offset
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(14), 40);        // info header size
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(18), rgb.Width);
        BinaryPrimitives.WriteInt32LittleEndian(file.AsSpan(22), rgb.Height);    // positive: bottom-up
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(26), 1);         // planes
        BinaryPrimitives.WriteInt16LittleEndian(file.AsSpan(28), 24);        // bits per pixel
        for (int y = 0; y < rgb.Height; y++)
        {
            int row = 54 + (rgb.Height - 1 - y) * rowBytes;
            for (int x = 0; x < rgb.Width; x++)
                for (int c = 0; c < 3; c++) file[row + 3 * x + c] = rgb.Pixels[(y * rgb.Width + x) * 3 + 2 - c];
        }
        return file;
    }

    /// <summary>The classic 1x1 transparent GIF89a (43 bytes): a format Skia decodes and the reader refuses.</summary>
    public static byte[] Gif() =>
        [0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x21, 0xF9, 0x04,
         0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B];

    /// <summary>
    /// A decompression bomb: a valid PNG header (IHDR with a correct CRC) claiming <paramref name="width"/> x
    /// <paramref name="height"/> 8-bit RGB pixels, followed by a few bytes of image data and IEND.
    /// </summary>
    public static byte[] PngBomb(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 2;   // RGB
        // zlib stream of zeros (stored deflate block of 5 bytes): far less than the image needs.
        byte[] idat = [0x78, 0x01, 0x01, 0x05, 0x00, 0xFA, 0xFF, 0, 0, 0, 0, 0, 0x00, 0x05, 0x00, 0x01];
        return [.. PngSignature, .. Chunk("IHDR", ihdr), .. Chunk("IDAT", idat), .. Chunk("IEND", [])];
    }

    public static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>One PNG chunk: length, type, data and the CRC-32 of type and data.</summary>
    public static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    /// <summary>The offsets of each chunk's length field in a PNG file, walking the chunks while their lengths fit.</summary>
    public static List<int> ChunkOffsets(byte[] png)
    {
        var offsets = new List<int>();
        for (int at = 8; at + 12 <= png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            if (length < 0 || at + 12L + length > png.Length) break;
            offsets.Add(at);
            at += 12 + length;
        }
        return offsets;
    }

    /// <summary>Rewrites every whole chunk's CRC, so a mutated PNG gets past libpng's CRC check into the decoder proper.</summary>
    public static byte[] WithCrcsFixed(byte[] png)
    {
        var fixedUp = (byte[])png.Clone();
        foreach (int at in ChunkOffsets(fixedUp))
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(fixedUp.AsSpan(at));
            BinaryPrimitives.WriteUInt32BigEndian(fixedUp.AsSpan(at + 8 + length), Crc32(fixedUp.AsSpan(at + 4, 4 + length)));
        }
        return fixedUp;
    }

    /// <summary>
    /// <paramref name="jpeg"/> with an EXIF APP1 segment after its SOI marker holding one IFD entry, Orientation (tag 274)
    /// = <paramref name="orientation"/> (TIFF 6.0, big-endian "MM").
    /// </summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        byte[] exif =
        [
            0xFF, 0xE1, 0x00, 34,                                   // APP1, length 34 (itself included)
            .. "Exif\0\0"u8,
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, // TIFF header, first IFD at 8
            0x00, 0x01,                                              // one entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,          // Orientation, SHORT, count 1
            0x00, (byte)orientation, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,                                  // no next IFD
        ];
        return [.. jpeg.AsSpan(0, 2), .. exif, .. jpeg.AsSpan(2)];
    }

    /// <summary>CRC-32 (reflected 0xEDB88320) one bit at a time.</summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte v in data)
        {
            crc ^= v;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
