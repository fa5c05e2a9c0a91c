using Google.Protobuf;
using GpuDeconv.Training.Proto;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class ScalarLogTests
{
    [Fact]
    public void ReadsBackTheScalarsSummaryWriterWroteAndSkipsEverythingElse()
    {
        using var dir = new TempDirectory();
        float[] losses = [2.3f, 1.25f, float.NaN, 0.5f, float.PositiveInfinity, 1e-30f];
        double before = EventFileWriter.UnixSecondsNow();
        using (var writer = new SummaryWriter(dir.Path))
        {
            for (int i = 0; i < losses.Length; i++)
            {
                writer.AddScalar("loss", losses[i], 10 * (i + 1));
                writer.AddScalar("accuracy", i / 10f, 10 * (i + 1));
            }
            writer.AddImage("image", new byte[12], 2, 2, 3, ImageLayout.Hwc, 60);
            writer.AddHistogram("weights", [0.5, 1.5], 60);
            writer.AddText("note", "text is a tensor, but not a scalar", 60);
            writer.AddScalar("test/accuracy", 0.875f, 60);
        }
        double after = EventFileWriter.UnixSecondsNow();

        var log = ScalarLog.ReadRun(dir.Path);

        Assert.Equal(["loss", "accuracy", "test/accuracy"], log.Tags);
        Assert.Single(log.Files);
        Assert.Empty(log.Warnings);
        var loss = log["loss"];
        Assert.Equal(losses.Length, loss.Count);
        for (int i = 0; i < losses.Length; i++)
        {
            Assert.Equal(10 * (i + 1), loss[i].Step);
            // The float written comes back bit for bit (NaN and infinity included), widened to double.
            Assert.Equal(BitConverter.SingleToInt32Bits(losses[i]), BitConverter.SingleToInt32Bits((float)loss[i].Value));
            Assert.InRange(loss[i].WallTime, before - 1, after + 1);
        }
        Assert.Equal(0.875f, (float)Assert.Single(log["test/accuracy"]).Value);
    }

    [Fact]
    public void ReadsTensorScalarsMarkedWithTheScalarsPlugin()
    {
        // TF2 and PyTorch's new_style write scalars as one-element tensors; TF2 puts the plugin metadata on a tag's first value only.
        using var dir = new TempDirectory();
        var scalars = new SummaryMetadata { PluginData = new SummaryMetadata.Types.PluginData { PluginName = "scalars" } };
        using (var events = new EventFileWriter(dir.Path))
        {
            Write(events, 1, new Summary.Types.Value { Tag = "tf2", Metadata = scalars, Tensor = new TensorProto { Dtype = DataType.DtFloat, FloatVal = { 0.25f } } });
            Write(events, 2, new Summary.Types.Value { Tag = "tf2", Tensor = new TensorProto { Dtype = DataType.DtFloat, TensorContent = ByteString.CopyFrom(BitConverter.GetBytes(0.5f)) } });
            Write(events, 3, new Summary.Types.Value { Tag = "double", Metadata = new SummaryMetadata { DataClass = DataClass.Scalar }, Tensor = new TensorProto { Dtype = DataType.DtDouble, DoubleVal = { 1.0 / 3 } } });
            Write(events, 4, new Summary.Types.Value { Tag = "count", Metadata = scalars, Tensor = new TensorProto { Dtype = DataType.DtInt64, Int64Val = { 42 } } });
            // A tensor without the plugin, and a scalar-plugin tensor that holds two values: neither is a scalar.
            Write(events, 5, new Summary.Types.Value { Tag = "unmarked", Tensor = new TensorProto { Dtype = DataType.DtFloat, FloatVal = { 9 } } });
            Write(events, 6, new Summary.Types.Value { Tag = "pair", Metadata = scalars, Tensor = new TensorProto { Dtype = DataType.DtFloat, FloatVal = { 1, 2 } } });
        }

        var log = ScalarLog.ReadRun(dir.Path);

        Assert.Equal(["tf2", "double", "count"], log.Tags);
        Assert.Equal([(1L, 0.25), (2L, 0.5)], log["tf2"].Select(p => (p.Step, p.Value)));
        Assert.Equal(1.0 / 3, Assert.Single(log["double"]).Value);
        Assert.Equal(42, Assert.Single(log["count"]).Value);
    }

    [Fact]
    public void AResumedRunIsReadInFileNameOrder()
    {
        using var dir = new TempDirectory();
        using (var first = new SummaryWriter(dir.Path)) first.AddScalar("loss", 1, 10);
        using (var second = new SummaryWriter(dir.Path)) second.AddScalar("loss", 2, 5);

        var log = ScalarLog.ReadRun(dir.Path);

        Assert.Equal(2, log.Files.Count);
        Assert.Equal([(10L, 1.0), (5L, 2.0)], log["loss"].Select(p => (p.Step, p.Value)));
    }

    [Fact]
    public void ATornTailIsReadUpToTheCutAndNamedInTheWarnings()
    {
        using var dir = new TempDirectory();
        string path;
        using (var writer = new SummaryWriter(dir.Path))
        {
            path = writer.FilePath;
            for (int step = 1; step <= 5; step++) writer.AddScalar("loss", step, step);
        }
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^7]);

        var log = ScalarLog.ReadRun(dir.Path);

        Assert.Equal([1L, 2, 3, 4], log["loss"].Select(p => p.Step));
        string warning = Assert.Single(log.Warnings);
        Assert.StartsWith($"{path}: the last record, at byte ", warning, StringComparison.Ordinal);
        Assert.Contains("is cut short", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void ACorruptedCrcIsAnInvalidDataExceptionNamingTheFileTheRecordAndItsOffset()
    {
        using var dir = new TempDirectory();
        string path;
        using (var writer = new SummaryWriter(dir.Path))
        {
            path = writer.FilePath;
            for (int step = 1; step <= 3; step++) writer.AddScalar("loss", step, step);
        }
        byte[] bytes = File.ReadAllBytes(path);
        var records = new RecordReader(new MemoryStream(bytes));
        records.Read();
        records.Read();
        long third = records.Position;
        bytes[third + 20] ^= 0x40;   // a payload byte of record 2
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<InvalidDataException>(() => ScalarLog.ReadRun(dir.Path));

        Assert.StartsWith($"{path}: record 2 at byte {third} is damaged: the CRC of its ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARecordWithGoodCrcsThatIsNotAnEventIsDamage()
    {
        using var dir = new TempDirectory();
        string path = dir["events.out.tfevents.1.host.1.1"];
        File.WriteAllBytes(path, RecordWriter.Frame([0xff, 0xff, 0xff]));

        var e = Assert.Throws<InvalidDataException>(() => ScalarLog.ReadFile(path));

        Assert.StartsWith($"{path}: record 0 at byte 0 has good CRCs but is not a TensorBoard Event", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingDirectoryAndOneWithoutEventFilesSaySo()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir["notes.txt"], "not an event file");

        var missing = Assert.Throws<DirectoryNotFoundException>(() => ScalarLog.ReadRun(dir["nope"]));
        var empty = Assert.Throws<FileNotFoundException>(() => ScalarLog.ReadRun(dir.Path));

        Assert.Contains("nope", missing.Message, StringComparison.Ordinal);
        Assert.Equal($"'{dir.Path}' holds no TensorBoard event files (events.out.tfevents.*).", empty.Message);
    }

    [Fact]
    public void AnUnknownTagListsTheTagsThereAre()
    {
        using var dir = new TempDirectory();
        using (var writer = new SummaryWriter(dir.Path))
        {
            writer.AddScalar("loss", 1, 1);
            writer.AddScalar("accuracy", 1, 1);
        }
        var log = ScalarLog.ReadRun(dir.Path);

        var e = Assert.Throws<KeyNotFoundException>(() => log["acc"]);

        Assert.Equal("ScalarLog: no scalars are tagged 'acc'; the tags are loss, accuracy.", e.Message);
        Assert.False(log.TryGet("acc", out var none));
        Assert.Empty(none);
    }

    static void Write(EventFileWriter events, long step, Summary.Types.Value value) =>
        events.Write(new Event { WallTime = EventFileWriter.UnixSecondsNow(), Step = step, Summary = new Summary { Value = { value } } });
}
