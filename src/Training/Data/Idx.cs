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
        using var source = Open(path, out string where, out long? fileLength);
        Span<byte> header = stackalloc byte[16];
        ReadHeader(source, path, where, header, ImagesMagic, "images (unsigned bytes, 3 dimensions)");
        int count = Dimension(path, header, 1, "image count");
        int rows = Dimension(path, header, 2, "rows");
        int columns = Dimension(path, header, 3, "columns");
        // Each product fits a long (below 2^62) as long as the one before it fits an array.
        long size = (long)count * rows;
        if (size > Array.MaxLength || (size *= columns) > Array.MaxLength)
            throw new InvalidDataException($"{path}: {count} images of {rows}x{columns} are more bytes than one array holds ({Array.MaxLength}); the header is damaged or the file is not IDX.");
        byte[] pixels = ReadBody(source, path, where, fileLength, header.Length, size, $"{count} images of {rows}x{columns} bytes");
        return new IdxImages(pixels, count, rows, columns);
    }

    /// <summary>Reads a labels file: magic 2049, count, then count bytes and nothing more.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The magic or the count is wrong, the data ends early or goes on after the last label, or the gzip stream is corrupt; the message names the file and the offset.</exception>
    public static byte[] ReadLabels(string path)
    {
        using var source = Open(path, out string where, out long? fileLength);
        Span<byte> header = stackalloc byte[8];
        ReadHeader(source, path, where, header, LabelsMagic, "labels (unsigned bytes, 1 dimension)");
        int count = Dimension(path, header, 1, "label count");
        if (count > Array.MaxLength)
            throw new InvalidDataException($"{path}: {count} labels are more bytes than one array holds ({Array.MaxLength}); the header is damaged or the file is not IDX.");
        return ReadBody(source, path, where, fileLength, header.Length, count, $"{count} labels");
    }

    /// <summary>
    /// Opens the file, through a GZipStream when it starts with the gzip magic; <paramref name="where"/> says which bytes
    /// offsets count, <paramref name="fileLength"/> is the plain file's length (null for gzip, whose data length is unknown).
    /// </summary>
    private static Stream Open(string path, out string where, out long? fileLength)
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
            fileLength = null;
            return new GZipStream(file, CompressionMode.Decompress);
        }
        where = "";
        fileLength = file.Length;
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

    /// <summary>
    /// Reads the <paramref name="size"/> bytes after the header, and checks that nothing follows. The header's counts are
    /// untrusted: a plain file is measured before anything of their size is allocated, and gzip data (whose length only
    /// reading tells) goes into a buffer that grows as the data arrives, so memory follows the data, not the promise.
    /// </summary>
    private static byte[] ReadBody(Stream source, string path, string where, long? fileLength, int offset, long size, string what)
    {
        if (fileLength is { } length && length - offset != size)
        {
            if (length - offset < size) throw Truncated(path, where, offset, length - offset, size, what);
            throw GoesOn(path, where, offset, size, what);
        }
        const int FirstChunk = 1 << 16;
        var body = new byte[fileLength is null ? Math.Min(size, FirstChunk) : size];
        long read = 0;
        while (true)
        {
            read += Read(source, path, body.AsSpan((int)read));
            if (read < body.Length) throw Truncated(path, where, offset, read, size, what);
            if (body.Length == size) break;
            Array.Resize(ref body, (int)Math.Min(size, 2L * body.Length));
        }
        Span<byte> extra = stackalloc byte[1];
        if (Read(source, path, extra) != 0) throw GoesOn(path, where, offset, size, what);
        return body;
    }

    private static InvalidDataException Truncated(string path, string where, int offset, long read, long size, string what) =>
        new($"{path}: truncated: ends at offset {offset + read}{where}, expected {what} from offset {offset} to offset {offset + size}.");

    private static InvalidDataException GoesOn(string path, string where, int offset, long size, string what) =>
        new($"{path}: data goes on after offset {offset + size}{where}, where {what} end; the header's counts do not match the file.");

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
