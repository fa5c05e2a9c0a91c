using Xunit;

namespace GpuDeconv.Training.Tests;

public class RecordReaderTests
{
    // Payloads of awkward sizes: empty, one byte, shorter than a header, a few KB.
    static readonly byte[][] Payloads = [[], [7], [.. Enumerable.Range(0, 11).Select(i => (byte)i)], [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 31))]];

    static byte[] Framed(params byte[][] payloads) => [.. payloads.SelectMany(p => RecordWriter.Frame(p))];

    static (List<byte[]> Records, RecordReader Reader) ReadAll(Stream stream)
    {
        var reader = new RecordReader(stream);
        var records = new List<byte[]>();
        while (reader.Read() is { } payload) records.Add(payload);
        return (records, reader);
    }

    [Fact]
    public void ReadsBackEveryRecordRecordWriterWrote()
    {
        byte[] file = Framed(Payloads);

        var (records, reader) = ReadAll(new MemoryStream(file));

        Assert.Equal(Payloads.Length, records.Count);
        for (int i = 0; i < Payloads.Length; i++) Assert.Equal(Payloads[i], records[i]);
        Assert.Null(reader.TornTail);
        Assert.Equal(file.Length, reader.Position);
        Assert.Equal(Payloads.Length, reader.Records);
        Assert.Null(reader.Read());
    }

    [Fact]
    public void AStreamThatCannotSeekReadsTheSame()
    {
        byte[] file = Framed(Payloads);

        var (records, reader) = ReadAll(new ForwardOnlyStream(file[..^5]));

        Assert.Equal(Payloads.Length - 1, records.Count);
        Assert.Contains("cut short", reader.TornTail, StringComparison.Ordinal);
    }

    [Fact]
    public void ACutAtEveryOffsetYieldsTheWholeRecordsBeforeItAndATornTail()
    {
        byte[] file = Framed(Payloads);
        var ends = new List<int> { 0 };
        foreach (byte[] payload in Payloads) ends.Add(ends[^1] + payload.Length + RecordWriter.FrameOverhead);

        for (int cut = 0; cut <= file.Length; cut++)
        {
            var (records, reader) = ReadAll(new MemoryStream(file[..cut]));

            int whole = ends.Count(end => end <= cut) - 1;
            Assert.True(records.Count == whole, $"cut at {cut}: {records.Count} records, expected {whole}");
            if (ends.Contains(cut))
                Assert.Null(reader.TornTail);
            else
                Assert.StartsWith($"the last record, at byte {ends[whole]}, is cut short", reader.TornTail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AZeroFilledTailIsTornNotDamage()
    {
        // A file system can extend a file before a crash keeps its data from being written: the tail reads as zeros.
        byte[] file = [.. Framed(Payloads[..2]), .. new byte[100]];

        var (records, reader) = ReadAll(new MemoryStream(file));

        Assert.Equal(2, records.Count);
        Assert.StartsWith($"the stream ends in zero bytes from byte {file.Length - 100}", reader.TornTail, StringComparison.Ordinal);
    }

    [Fact]
    public void AFlippedLengthCrcIsDamageNamingTheRecordItsOffsetAndBothCrcs()
    {
        byte[] file = Framed(Payloads);
        int second = Payloads[0].Length + RecordWriter.FrameOverhead;
        file[second + 9] ^= 0x10;

        var reader = new RecordReader(new MemoryStream(file));
        Assert.NotNull(reader.Read());
        var e = Assert.Throws<InvalidDataException>(() => reader.Read());

        Assert.StartsWith($"record 1 at byte {second} is damaged: the length's CRC is 0x", e.Message, StringComparison.Ordinal);
        Assert.Contains(", but its 8 bytes give 0x", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFlippedPayloadByteIsDamage()
    {
        byte[] file = Framed(Payloads);
        int third = Payloads[0].Length + Payloads[1].Length + 2 * RecordWriter.FrameOverhead;
        file[third + 12 + 5] ^= 0x01;

        var reader = new RecordReader(new MemoryStream(file));
        reader.Read();
        reader.Read();
        var e = Assert.Throws<InvalidDataException>(() => reader.Read());

        Assert.StartsWith($"record 2 at byte {third} is damaged: the CRC of its 11-byte payload is 0x", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ZerosInTheMiddleAreDamageNotATornTail()
    {
        byte[] file = [.. Framed(Payloads[..1]), .. new byte[16], .. Framed(Payloads[1..])];

        var reader = new RecordReader(new MemoryStream(file));
        reader.Read();

        Assert.Throws<InvalidDataException>(() => reader.Read());
    }

    // Hides Length and Seek, as a pipe or a network stream does.
    sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
    }
}
