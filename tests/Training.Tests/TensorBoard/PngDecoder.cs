using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Xunit;

namespace GpuDeconv.Training.Tests;

/// <summary>A decoded 8-bit PNG: size, colour type and interleaved pixels.</summary>
public sealed record DecodedPng(int Width, int Height, int ColorType, int Channels, byte[] Pixels);

/// <summary>
/// A small PNG decoder written in the tests from the PNG specification, independent of the encoder:
/// signature, chunk CRCs (bitwise CRC-32), IHDR, concatenated IDATs inflated with ZLibStream, the five
/// filters undone, IEND last. Only what the encoder may produce is accepted (8 bits, no interlace).
/// </summary>
public static class PngDecoder
{
    static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static DecodedPng Decode(byte[] png)
    {
        Assert.True(png.AsSpan().StartsWith(Signature), "PNG signature missing");
        int pos = Signature.Length;
        int width = 0, height = 0, colorType = -1;
        var idat = new MemoryStream();
        var chunkTypes = new List<string>();
        while (pos < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            string type = Encoding.ASCII.GetString(png, pos + 4, 4);
            ReadOnlySpan<byte> data = png.AsSpan(pos + 8, length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + length));
            Assert.Equal(Crc32(png.AsSpan(pos + 4, 4 + length)), crc);
            chunkTypes.Add(type);
            switch (type)
            {
                case "IHDR":
                    Assert.Equal(13, length);
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    Assert.Equal(8, data[8]);     // bit depth
                    colorType = data[9];
                    Assert.Equal(0, data[10]);    // deflate
                    Assert.Equal(0, data[11]);    // adaptive filtering
                    Assert.Equal(0, data[12]);    // no interlace
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    Assert.Equal(0, length);
                    break;
            }
            pos += 12 + length;
        }
        Assert.Equal(png.Length, pos);
        Assert.Equal("IHDR", chunkTypes[0]);
        Assert.Equal("IEND", chunkTypes[^1]);
        Assert.Contains("IDAT", chunkTypes);

        int channels = colorType switch { 0 => 1, 4 => 2, 2 => 3, 6 => 4, _ => throw new InvalidDataException($"colour type {colorType}") };
        int rowBytes = width * channels;
        idat.Position = 0;
        var raw = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
            zlib.CopyTo(raw);
        byte[] filtered = raw.ToArray();
        Assert.Equal(height * (rowBytes + 1), filtered.Length);

        var pixels = new byte[height * rowBytes];
        for (int y = 0; y < height; y++)
        {
            int filter = filtered[y * (rowBytes + 1)];
            for (int i = 0; i < rowBytes; i++)
            {
                int x = filtered[y * (rowBytes + 1) + 1 + i];
                int a = i >= channels ? pixels[y * rowBytes + i - channels] : 0;
                int b = y > 0 ? pixels[(y - 1) * rowBytes + i] : 0;
                int c = i >= channels && y > 0 ? pixels[(y - 1) * rowBytes + i - channels] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"filter type {filter} in row {y}"),
                };
                pixels[y * rowBytes + i] = (byte)(x + predictor);
            }
        }
        return new DecodedPng(width, height, colorType, channels, pixels);
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
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
