using System.Text;
using Google.Protobuf;
using GpuDeconv.Training.Proto;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class RecordWriterTests
{
    // The three complete records of docs/reference/tensorboard-format.md section 2, built by hand there.
    const string FileVersionRecord =
        "18 00 00 00 00 00 00 00 a3 7f 4b 22 09 00 00 00 40 fc 54 d9 41 1a 0d 62 72 61 69 6e 2e 45 76 65 6e 74 3a 32 ec ed 8f 9d";
    const string ScalarRecord =
        "1a 00 00 00 00 00 00 00 12 9b d8 2d 09 00 00 60 40 fc 54 d9 41 10 07 2a 0d 0a 0b 0a 04 6c 6f 73 73 15 00 00 80 3e bf 90 17 bf";

    internal static readonly string TextPayload =
        "09 00 00 80 40 fc 54 d9 41 10 03 2a 2d 0a 2b 0a 11 " + Hex("note/text_summary") +
        " 42 0c 08 07 12 04 12 02 08 01 42 02 68 69 4a 08 0a 06 0a 04 74 65 78 74";

    [Fact]
    public void FramesTheFileVersionEventByteForByte()
    {
        var evt = new Event { WallTime = 1700000000.0, FileVersion = "brain.Event:2" };
        Assert.Equal(Bytes(FileVersionRecord), RecordWriter.Frame(evt.ToByteArray()));
    }

    [Fact]
    public void FramesTheScalarEventByteForByte()
    {
        var evt = new Event
        {
            WallTime = 1700000001.5,
            Step = 7,
            Summary = new Summary { Value = { new Summary.Types.Value { Tag = "loss", SimpleValue = 0.25f } } },
        };
        Assert.Equal(Bytes(ScalarRecord), RecordWriter.Frame(evt.ToByteArray()));
    }

    [Fact]
    public void FramesTheTextEventByteForByte()
    {
        var evt = new Event
        {
            WallTime = 1700000002.0,
            Step = 3,
            Summary = new Summary
            {
                Value =
                {
                    new Summary.Types.Value
                    {
                        Tag = "note/text_summary",
                        Tensor = new TensorProto
                        {
                            Dtype = DataType.DtString,
                            TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 } } },
                            StringVal = { ByteString.CopyFromUtf8("hi") },
                        },
                        Metadata = new SummaryMetadata { PluginData = new SummaryMetadata.Types.PluginData { PluginName = "text" } },
                    },
                },
            },
        };
        byte[] payload = Bytes(TextPayload);
        Assert.Equal(payload, evt.ToByteArray());
        Assert.Equal(58, payload.Length);
        byte[] expected = [.. Bytes("3a 00 00 00 00 00 00 00 12 95 ea e2"), .. payload, .. Bytes("df e3 42 cd")];
        Assert.Equal(expected, RecordWriter.Frame(evt.ToByteArray()));
    }

    [Fact]
    public void ZeroSimpleValueIsStillWritten()
    {
        // A set oneof member is written even when it is zero: 15 00 00 00 00.
        var value = new Summary.Types.Value { Tag = "z", SimpleValue = 0f };
        Assert.Equal(Bytes("0a 01 7a 15 00 00 00 00"), value.ToByteArray());
    }

    [Fact]
    public void WriteAppendsRecordsBackToBackInOneWriteEach()
    {
        var stream = new WriteCountingStream();
        var writer = new RecordWriter(stream);
        writer.Write([1, 2, 3]);
        writer.Write([]);
        Assert.Equal(2, stream.Writes);
        byte[] all = stream.ToArray();
        Assert.Equal(RecordWriter.FrameOverhead * 2 + 3, all.Length);
        Assert.Equal([.. RecordWriter.Frame([1, 2, 3]), .. RecordWriter.Frame([])], all);
        // The empty record: length 0, masked CRC of u64(0), no payload, masked CRC of nothing.
        Assert.Equal(Bytes("00 00 00 00 00 00 00 00 29 03 98 07 d8 ea 82 a2"), RecordWriter.Frame([]));
    }

    static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", ""));

    static string Hex(string ascii) => Convert.ToHexString(Encoding.ASCII.GetBytes(ascii));

    sealed class WriteCountingStream : MemoryStream
    {
        public int Writes { get; private set; }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            // Not base.Write(span): for a derived type it forwards to the virtual array overload.
            Writes++;
            base.Write(buffer.ToArray(), 0, buffer.Length);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes++;
            base.Write(buffer, offset, count);
        }
    }
}
