using System.Buffers.Binary;
using GpuDeconv.Training.Proto;
using Xunit;

namespace GpuDeconv.Training.Tests;

/// <summary>How reading an event file ended (docs/reference/tensorboard-format.md section 6).</summary>
public enum ReadEnd
{
    CleanEof,
    TruncatedTail,
    BadLengthCrc,
    BadDataCrc,
}

/// <summary>The whole records of a file, where the reading stopped and why.</summary>
public sealed record EventFileContents(IReadOnlyList<Event> Events, IReadOnlyList<long> RecordEnds, ReadEnd End, long StopOffset);

/// <summary>
/// The spec's reference reader, written from docs/reference/tensorboard-format.md section 6 and independent of the library:
/// its own bitwise CRC-32C and mask, both CRCs checked, records parsed with the generated protobuf parser.
/// </summary>
public static class EventFileReader
{
    public static EventFileContents Read(string path)
    {
        // The writer may still hold the file open for writing.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return Read(bytes);
    }

    public static EventFileContents Read(ReadOnlySpan<byte> buffer)
    {
        var events = new List<Event>();
        var ends = new List<long>();
        int pos = 0;
        ReadEnd end;
        while (true)
        {
            int remaining = buffer.Length - pos;
            if (remaining == 0) { end = ReadEnd.CleanEof; break; }
            if (remaining < 12) { end = ReadEnd.TruncatedTail; break; }
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(buffer[pos..]);
            uint lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(buffer[(pos + 8)..]);
            if (MaskedCrc(buffer.Slice(pos, 8)) != lengthCrc) { end = ReadEnd.BadLengthCrc; break; }
            if ((ulong)remaining < 12 + length + 4) { end = ReadEnd.TruncatedTail; break; }
            ReadOnlySpan<byte> payload = buffer.Slice(pos + 12, (int)length);
            uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(buffer[(pos + 12 + (int)length)..]);
            if (MaskedCrc(payload) != dataCrc) { end = ReadEnd.BadDataCrc; break; }
            events.Add(Event.Parser.ParseFrom(payload));
            pos += 16 + (int)length;
            ends.Add(pos);
        }
        return new EventFileContents(events, ends, end, pos);
    }

    /// <summary>CRC-32C one bit at a time (reflected 0x82F63B78, init and final XOR all ones): slow and obviously right.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        return ~crc;
    }

    public static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xA282EAD8);
    }
}
