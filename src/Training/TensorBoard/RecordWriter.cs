using System.Buffers.Binary;

namespace GpuDeconv.Training;

/// <summary>
/// Writes TFRecord frames to a stream: <c>u64 length | u32 masked CRC-32C(length) | payload | u32 masked CRC-32C(payload)</c>,
/// all little-endian, records back to back with no file header or trailer.
/// </summary>
/// <param name="stream">The stream to append to; it is neither flushed nor disposed by this writer.</param>
public sealed class RecordWriter(Stream stream)
{
    /// <summary>The bytes a record adds around its payload: length, length CRC and payload CRC.</summary>
    public const int FrameOverhead = sizeof(ulong) + 2 * sizeof(uint);

    readonly Stream _stream = stream ?? throw new ArgumentNullException(nameof(stream));

    /// <summary>Writes the framed record for <paramref name="payload"/> with a single <see cref="Stream.Write(ReadOnlySpan{byte})"/> call.</summary>
    /// <exception cref="IOException">The stream failed; the record may be partly written.</exception>
    public void Write(ReadOnlySpan<byte> payload) => _stream.Write(Frame(payload));

    /// <summary>The complete framed record for <paramref name="payload"/>.</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        // One buffer per record, so that the record reaches the stream in one write and a crash
        // can only cut it at the end of the file, never interleave it with another.
        var record = new byte[payload.Length + FrameOverhead];
        Span<byte> span = record;
        BinaryPrimitives.WriteUInt64LittleEndian(span, (ulong)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[8..], Crc32C.ComputeMasked(span[..8]));
        payload.CopyTo(span[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(12 + payload.Length)..], Crc32C.ComputeMasked(payload));
        return record;
    }
}
