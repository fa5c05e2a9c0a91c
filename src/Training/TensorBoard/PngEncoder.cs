using System.Buffers.Binary;
using System.IO.Compression;

namespace GpuDeconv.Training;

/// <summary>
/// Encodes 8-bit images as PNG files (gray, gray+alpha, RGB, RGBA; no interlacing), the format
/// TensorBoard's image summaries carry and plots are saved in.
/// </summary>
/// <remarks>
/// Layout (PNG specification, ISO/IEC 15948): signature, IHDR, one IDAT holding the zlib stream of all
/// filtered rows, IEND; every chunk ends with the CRC-32 of its type and data. Each row picks the filter
/// (None, Sub, Up, Average, Paeth) with the smallest sum of absolute signed bytes, libpng's heuristic.
/// </remarks>
public static class PngEncoder
{
    static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The PNG file for <paramref name="pixels"/>, rows top to bottom, each <c>width * channels</c> interleaved bytes (HWC).</summary>
    /// <param name="pixels">height x width x channels bytes.</param>
    /// <param name="height">Rows, at least 1.</param>
    /// <param name="width">Columns, at least 1.</param>
    /// <param name="channels">1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.</param>
    /// <exception cref="ArgumentException">A size is out of range, or <paramref name="pixels"/> does not hold height x width x channels bytes.</exception>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int height, int width, int channels)
    {
        byte colorType = channels switch
        {
            1 => 0,
            2 => 4,
            3 => 2,
            4 => 6,
            _ => throw new ArgumentOutOfRangeException(nameof(channels), channels,
                "PngEncoder: channels must be 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA)."),
        };
        // PNG allows up to 2^31-1 per side; the row buffer limits us further, which is checked by the product.
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        long rowBytes = (long)width * channels;
        if (rowBytes * height > Array.MaxLength)
            throw new ArgumentException($"PngEncoder: a {height}x{width}x{channels} image is larger than one array can hold.", nameof(pixels));
        if (pixels.Length != rowBytes * height)
            throw new ArgumentException(
                $"PngEncoder: pixels holds {pixels.Length} bytes, but a {height}x{width}x{channels} image needs {rowBytes * height}.",
                nameof(pixels));

        using var file = new MemoryStream();
        file.Write(Signature);

        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = 8;          // bit depth
        ihdr[9] = colorType;
        ihdr[10] = 0;         // compression: deflate
        ihdr[11] = 0;         // filter method: adaptive, five types
        ihdr[12] = 0;         // no interlace
        WriteChunk(file, "IHDR"u8, ihdr);

        WriteChunk(file, "IDAT"u8, CompressRows(pixels, height, (int)rowBytes, channels));
        WriteChunk(file, "IEND"u8, []);
        return file.ToArray();
    }

    /// <summary>Writes the PNG of <paramref name="pixels"/> (as <see cref="Encode"/>) to <paramref name="path"/>, replacing any file there only once the new one is complete on disk.</summary>
    /// <exception cref="ArgumentException">As for <see cref="Encode"/>, or <paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(string path, ReadOnlySpan<byte> pixels, int height, int width, int channels)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] png = Encode(pixels, height, width, channels);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        // Temporary file + fsync + rename: a crash never leaves a half-written image where a good one was.
        string temporary = $"{full}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(png);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Writes <paramref name="image"/> as a PNG file (see <see cref="Save(string, ReadOnlySpan{byte}, int, int, int)"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="image"/> has a channel count PNG lacks, or <paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(string path, ByteImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        Save(path, image.Pixels, image.Height, image.Width, image.Channels);
    }

    static byte[] CompressRows(ReadOnlySpan<byte> pixels, int height, int rowBytes, int bytesPerPixel)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            // Each filtered row is one filter-type byte followed by rowBytes filtered bytes.
            var candidates = new byte[5][];
            for (int f = 0; f < candidates.Length; f++)
                candidates[f] = new byte[rowBytes + 1];
            ReadOnlySpan<byte> previous = new byte[rowBytes];   // the row above the first is all zero
            for (int y = 0; y < height; y++)
            {
                ReadOnlySpan<byte> row = pixels.Slice(y * rowBytes, rowBytes);
                int best = 0;
                long bestCost = long.MaxValue;
                for (int f = 0; f < candidates.Length; f++)
                {
                    long cost = Filter(f, row, previous, bytesPerPixel, candidates[f]);
                    if (cost < bestCost)
                        (best, bestCost) = (f, cost);
                }
                zlib.Write(candidates[best]);
                previous = row;
            }
        }
        return compressed.ToArray();
    }

    // Filters one row with filter type `type` into `output` (type byte first) and returns the
    // sum of the filtered bytes read as signed values, the cost libpng minimises.
    static long Filter(int type, ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, int bpp, Span<byte> output)
    {
        output[0] = (byte)type;
        long cost = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int left = i >= bpp ? row[i - bpp] : 0;
            int up = above[i];
            int upLeft = i >= bpp ? above[i - bpp] : 0;
            int predictor = type switch
            {
                0 => 0,
                1 => left,
                2 => up,
                3 => (left + up) >> 1,
                _ => Paeth(left, up, upLeft),
            };
            byte filtered = unchecked((byte)(row[i] - predictor));
            output[i + 1] = filtered;
            // Widen before Math.Abs: |(sbyte)0x80| does not fit an sbyte.
            cost += Math.Abs((int)(sbyte)filtered);
        }
        return cost;
    }

    static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    static void WriteChunk(Stream file, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        file.Write(word);
        file.Write(type);
        file.Write(data);
        uint crc = PngCrc32.Update(PngCrc32.Update(0xFFFFFFFFu, type), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        file.Write(word);
    }

    // The CRC-32 of PNG chunks (ISO 3309, reflected polynomial 0xEDB88320), table-driven; the chunk CRC
    // covers type and data, starts at 0xFFFFFFFF and is inverted at the end. System.IO.Hashing would
    // be one more package for sixteen lines.
    static class PngCrc32
    {
        static readonly uint[] Table = BuildTable();

        public static uint Update(uint crc, ReadOnlySpan<byte> data)
        {
            foreach (byte b in data)
                crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc;
        }

        static uint[] BuildTable()
        {
            var table = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                uint c = n;
                for (int k = 0; k < 8; k++)
                    c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                table[n] = c;
            }
            return table;
        }
    }
}
