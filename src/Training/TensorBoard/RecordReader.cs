using System.Buffers.Binary;
using System.Globalization;

namespace GpuDeconv.Training;

/// <summary>
/// Reads the TFRecord frames that <see cref="RecordWriter"/> writes, checking the masked CRC-32C of every length and
/// payload (docs/reference/tensorboard-format.md sections 2 and 5).
/// </summary>
/// <remarks>
/// A file cut inside its last record (a crash before the writer's flush reached the disk) ends with
/// <see cref="TornTail"/> set instead of an exception: every whole record before the cut has been read, as
/// TensorBoard reads such a file. A tail of zero bytes (a file system that extended the file but never wrote the
/// data) counts as torn too. Anything else that does not check out is damage: <see cref="InvalidDataException"/>.
/// </remarks>
/// <param name="stream">The stream to read from its current position; it is not disposed by this reader.</param>
public sealed class RecordReader(Stream stream)
{
    const int HeaderSize = sizeof(ulong) + sizeof(uint);

    readonly Stream _stream = stream ?? throw new ArgumentNullException(nameof(stream));

    /// <summary>The byte offset of the next record, counted from where the reader started.</summary>
    public long Position { get; private set; }

    /// <summary>How many whole records have been read.</summary>
    public long Records { get; private set; }

    /// <summary>Once <see cref="Read"/> has returned null: why the stream ended with a partial record (one sentence with its offset), or null for a clean end.</summary>
    public string? TornTail { get; private set; }

    /// <summary>The payload of the next record, or null at the end of the stream (a clean end, or a torn last record: see <see cref="TornTail"/>).</summary>
    /// <exception cref="InvalidDataException">A length or payload CRC does not match, or the length is more than a record can hold; the message gives the record's offset and both CRCs.</exception>
    /// <exception cref="IOException">The stream failed.</exception>
    public byte[]? Read()
    {
        if (TornTail is not null) return null;
        Span<byte> header = stackalloc byte[HeaderSize];
        int got = _stream.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false);
        if (got == 0) return null;
        if (got < HeaderSize)
            return Torn(string.Create(CultureInfo.InvariantCulture, $"{got} of the {HeaderSize} bytes of a record's length and its CRC"));

        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(header);
        uint storedLengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(header[sizeof(ulong)..]);
        uint lengthCrc = Crc32C.ComputeMasked(header[..sizeof(ulong)]);
        if (lengthCrc != storedLengthCrc)
        {
            if (header.IndexOfAnyExcept((byte)0) < 0 && RestIsZero())
                return TornZeros();
            throw Damage($"the length's CRC is {Hex(storedLengthCrc)}, but its 8 bytes give {Hex(lengthCrc)}, so the record length {length} cannot be trusted");
        }
        if (length > (ulong)(Array.MaxLength - sizeof(uint)))
            throw Damage($"the record claims {length} bytes, more than a record can hold");

        // The stream may hold less than the length promises (a torn record): read what is there before allocating all of it.
        int size = (int)length + sizeof(uint);
        byte[] body = _stream.CanSeek
            ? new byte[Math.Min(size, Math.Max(0, _stream.Length - _stream.Position))]
            : new byte[size];
        got = _stream.ReadAtLeast(body, body.Length, throwOnEndOfStream: false);
        if (got < size)
            return Torn(string.Create(CultureInfo.InvariantCulture, $"{got} of the {size} bytes of a {length}-byte payload and its CRC"));

        var payload = body.AsSpan(0, (int)length);
        uint storedDataCrc = BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan((int)length));
        uint dataCrc = Crc32C.ComputeMasked(payload);
        if (dataCrc != storedDataCrc)
            throw Damage($"the CRC of its {length}-byte payload is {Hex(storedDataCrc)}, but the payload gives {Hex(dataCrc)}");

        Position += HeaderSize + size;
        Records++;
        return payload.ToArray();
    }

    byte[]? Torn(string what)
    {
        TornTail = string.Create(CultureInfo.InvariantCulture,
            $"the last record, at byte {Position}, is cut short: the stream ends after {what} (a write cut off by a crash; the {Records} whole records before it were read)");
        return null;
    }

    byte[]? TornZeros()
    {
        TornTail = string.Create(CultureInfo.InvariantCulture,
            $"the stream ends in zero bytes from byte {Position} (space the file system gave the file but a crash kept from being written; the {Records} whole records before it were read)");
        return null;
    }

    // Whether every byte left in the stream is zero; consumes them.
    bool RestIsZero()
    {
        var buffer = new byte[64 * 1024];
        int got;
        while ((got = _stream.Read(buffer)) > 0)
            if (buffer.AsSpan(0, got).IndexOfAnyExcept((byte)0) >= 0) return false;
        return true;
    }

    InvalidDataException Damage(string what) =>
        new(string.Create(CultureInfo.InvariantCulture, $"record {Records} at byte {Position} is damaged: {what}"));

    static string Hex(uint value) => "0x" + value.ToString("x8", CultureInfo.InvariantCulture);
}
