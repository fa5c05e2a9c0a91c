using System.Buffers.Binary;
using System.IO.Compression;

namespace GpuDeconv.Training.Tests;

/// <summary>Writes small files in the real CIFAR-10 and IDX binary formats, from the format descriptions in docs/reference/op-semantics.md section 5.</summary>
internal static class DataFiles
{
    /// <summary>A distinct pixel value for (record, channel, row, column), so transposition mistakes show.</summary>
    public static byte CifarPixel(int record, int channel, int y, int x) => (byte)(record * 7 + channel * 85 + y * 3 + x * 5);

    /// <summary>CIFAR-10 binary records: a label byte, then the R, G and B planes, each 32x32 row-major.</summary>
    public static byte[] CifarRecords(int count, Func<int, int> label, Func<int, int, int, int, byte>? pixel = null)
    {
        pixel ??= CifarPixel;
        var data = new byte[count * 3073];
        for (int r = 0; r < count; r++)
        {
            var record = data.AsSpan(r * 3073, 3073);
            record[0] = (byte)label(r);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                        record[1 + c * 1024 + y * 32 + x] = pixel(r, c, y, x);
        }
        return data;
    }

    /// <summary>
    /// Full-size CIFAR-10 records made quickly: each colour plane of record r is filled with <see cref="PlaneValue"/>
    /// (the per-pixel layout is checked on small files with <see cref="CifarRecords"/>).
    /// </summary>
    public static byte[] CifarPlanes(int count, Func<int, int> label)
    {
        var data = new byte[count * 3073];
        for (int r = 0; r < count; r++)
        {
            data[r * 3073] = (byte)label(r);
            for (int c = 0; c < 3; c++) data.AsSpan(r * 3073 + 1 + c * 1024, 1024).Fill(PlaneValue(r, c));
        }
        return data;
    }

    public static byte PlaneValue(int record, int channel) => (byte)(record * 3 + channel * 101);

    /// <summary>An IDX images file: magic 2051, count, rows, columns (big-endian int32), then the pixels.</summary>
    public static byte[] IdxImages(int count, int rows, int columns, Func<int, int, byte> pixel, int magic = 0x803)
    {
        var data = new byte[16 + count * rows * columns];
        BinaryPrimitives.WriteInt32BigEndian(data, magic);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(12), columns);
        for (int i = 0; i < count; i++)
            for (int p = 0; p < rows * columns; p++)
                data[16 + i * rows * columns + p] = pixel(i, p);
        return data;
    }

    /// <summary>An IDX labels file: magic 2049, count, then one byte per label.</summary>
    public static byte[] IdxLabels(params byte[] labels)
    {
        var data = new byte[8 + labels.Length];
        BinaryPrimitives.WriteInt32BigEndian(data, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), labels.Length);
        labels.CopyTo(data, 8);
        return data;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return output.ToArray();
    }
}
