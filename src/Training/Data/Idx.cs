using System.Buffers.Binary;
using System.IO.Compression;

namespace GpuDeconv.Training;

/// <summary>Images read from an IDX file: <see cref="Count"/> images of rows x columns bytes, row-major, one after another.</summary>
public sealed record IdxImages(byte[] Pixels, int Count, int Rows, int Columns);

/// <summary>
/// Reads the IDX files of MNIST and Fashion-MNIST (big-endian int32 header, magic <c>00 00 08 ndim</c>), plain or
/// gzip-compressed: compression is recognised by the gzip magic 1F 8B, not by the file name.
/// </summary>
public static class Idx
{
    /// <summary>The magic number of an unsigned-byte, 3-dimensional (images) file.</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>The magic number of an unsigned-byte, 1-dimensional (labels) file.</summary>
    public const int LabelsMagic = 0x00000801;

    /// <summary>Reads an images file: magic 2051, count, rows, columns, then count x rows x columns bytes and nothing more.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The magic or a dimension is wrong, the data ends early or goes on after the last image, or the gzip stream is corrupt; the message names the file and the offset.</exception>
    public static IdxImages ReadImages(string path)
    {
        using var source = Open(path, out string where);
        Span<byte> header = stackalloc byte[16];
        ReadHeader(source, path, where, header, ImagesMagic, "images (unsigned bytes, 3 dimensions)");
        int count = Dimension(path, header, 1, "image count");
        int rows = Dimension(path, header, 2, "rows");
        int columns = Dimension(path, header, 3, "columns");
        long size = (long)count * rows * columns;
        if (size > Array.MaxLength)
            throw new InvalidDataException($"{path}: {count} images of {rows}x{columns} are {size} bytes, more than one array holds.");
        var pixels = new byte[size];
        ReadBody(source, path, where, pixels, header.Length, $"{count} images of {rows}x{columns} bytes");
        return new IdxImages(pixels, count, rows, columns);
    }

    /// <summary>Reads a labels file: magic 2049, count, then count bytes and nothing more.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The magic or the count is wrong, the data ends early or goes on after the last label, or the gzip stream is corrupt; the message names the file and the offset.</exception>
    public static byte[] ReadLabels(string path)
    {
        using var source = Open(path, out string where);
        Span<byte> header = stackalloc byte[8];
        ReadHeader(source, path, where, header, LabelsMagic, "labels (unsigned bytes, 1 dimension)");
        int count = Dimension(path, header, 1, "label count");
        var labels = new byte[count];
        ReadBody(source, path, where, labels, header.Length, $"{count} labels");
        return labels;
    }

    /// <summary>Opens the file, through a GZipStream when it starts with the gzip magic; <paramref name="where"/> says which bytes offsets count.</summary>
    private static Stream Open(string path, out string where)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such IDX file.", path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        if (read == 2 && magic[0] == 0x1F && magic[1] == 0x8B)
        {
            where = " of the decompressed data";
            return new GZipStream(file, CompressionMode.Decompress);
        }
        where = "";
        return file;
    }

    /// <summary>Reads the header, checking the magic first: a short file of the other kind is reported as the wrong kind.</summary>
    private static void ReadHeader(Stream source, string path, string where, Span<byte> header, int magic, string what)
    {
        int read = Read(source, path, header);
        if (read >= 4) CheckMagic(path, header, magic, what);
        if (read < header.Length)
            throw new InvalidDataException(
                $"{path}: ends at offset {read}{where}, expected a {header.Length}-byte IDX header (big-endian int32 magic and dimensions).");
    }

    private static void CheckMagic(string path, ReadOnlySpan<byte> header, int expected, string what)
    {
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != expected)
            throw new InvalidDataException(
                $"{path}: magic number at offset 0 is 0x{magic:X8} ({magic}), expected 0x{expected:X8} ({expected}) for IDX {what}.");
    }

    private static int Dimension(string path, ReadOnlySpan<byte> header, int index, string name)
    {
        int value = BinaryPrimitives.ReadInt32BigEndian(header[(4 * index)..]);
        if (value < 0)
            throw new InvalidDataException($"{path}: {name} at offset {4 * index} is {value}, expected a count of zero or more.");
        return value;
    }

    private static void ReadBody(Stream source, string path, string where, Span<byte> body, int offset, string what)
    {
        int read = Read(source, path, body);
        if (read < body.Length)
            throw new InvalidDataException(
                $"{path}: truncated: ends at offset {offset + (long)read}{where}, expected {what} from offset {offset} to offset {offset + (long)body.Length}.");
        Span<byte> extra = stackalloc byte[1];
        if (Read(source, path, extra) != 0)
            throw new InvalidDataException(
                $"{path}: data goes on after offset {offset + (long)body.Length}{where}, where {what} end; the header's counts do not match the file.");
    }

    private static int Read(Stream source, string path, Span<byte> destination)
    {
        try
        {
            return source.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: corrupt gzip data ({e.Message}).", e);
        }
    }
}
