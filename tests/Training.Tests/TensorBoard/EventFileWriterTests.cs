using System.Text.RegularExpressions;
using GpuDeconv.Training.Proto;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class EventFileWriterTests
{
    static Event Scalar(string tag, float value, long step) => new()
    {
        WallTime = 1700000000.0 + step,
        Step = step,
        Summary = new Summary { Value = { new Summary.Types.Value { Tag = tag, SimpleValue = value } } },
    };

    [Fact]
    public void NamesTheFileAsTensorBoardsPythonWriterDoes()
    {
        using var dir = new TempDirectory();
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var writer = new EventFileWriter(dir["run"]);
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        Assert.Equal(Path.GetFullPath(dir["run"]), Path.GetDirectoryName(writer.FilePath));
        Match match = Regex.Match(Path.GetFileName(writer.FilePath), @"^events\.out\.tfevents\.(\d{10})\.([A-Za-z0-9_-]+)\.(\d+)\.(\d+)$");
        Assert.True(match.Success, writer.FilePath);
        long seconds = long.Parse(match.Groups[1].Value);
        Assert.InRange(seconds, before, after);
        Assert.Equal(Environment.ProcessId.ToString(), match.Groups[3].Value);
    }

    [Fact]
    public void FirstRecordIsFileVersionAndIsOnDiskAtOnce()
    {
        using var dir = new TempDirectory();
        double before = EventFileWriter.UnixSecondsNow();
        using var writer = new EventFileWriter(dir.Path, Timeout.InfiniteTimeSpan);

        // Read while the writer is still open, with no flush and no timer.
        EventFileContents contents = EventFileReader.Read(writer.FilePath);
        Assert.Equal(ReadEnd.CleanEof, contents.End);
        Event first = Assert.Single(contents.Events);
        Assert.Equal("brain.Event:2", first.FileVersion);
        Assert.True(double.IsFinite(first.WallTime));
        Assert.InRange(first.WallTime, before - 1, EventFileWriter.UnixSecondsNow() + 1);
    }

    [Fact]
    public void RecordsAreBufferedUntilFlushOrDispose()
    {
        using var dir = new TempDirectory();
        string path;
        using (var writer = new EventFileWriter(dir.Path, Timeout.InfiniteTimeSpan))
        {
            path = writer.FilePath;
            writer.Write(Scalar("a", 1, 1));
            Assert.Single(EventFileReader.Read(path).Events);
            writer.Flush();
            Assert.Equal(2, EventFileReader.Read(path).Events.Count);
            writer.Write(Scalar("a", 2, 2));
        }
        EventFileContents contents = EventFileReader.Read(path);
        Assert.Equal(ReadEnd.CleanEof, contents.End);
        Assert.Equal([0L, 1L, 2L], contents.Events.Select(e => e.Step));
    }

    [Fact]
    public void TimerFlushMakesRecordsVisibleWithoutFlush()
    {
        using var dir = new TempDirectory();
        using var writer = new EventFileWriter(dir.Path, TimeSpan.FromMilliseconds(20));
        writer.Write(Scalar("timed", 3, 5));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        EventFileContents contents;
        do
        {
            Thread.Sleep(10);
            contents = EventFileReader.Read(writer.FilePath);
        }
        while (contents.Events.Count < 2 && DateTime.UtcNow < deadline);
        Assert.Equal(2, contents.Events.Count);
        Assert.Equal("timed", contents.Events[1].Summary.Value[0].Tag);
    }

    [Fact]
    public void SecondWriterStartsANewFileThatSortsLaterAndLeavesTheOldOneAlone()
    {
        using var dir = new TempDirectory();
        string firstPath;
        using (var first = new EventFileWriter(dir.Path))
        {
            firstPath = first.FilePath;
            first.Write(Scalar("loss", 1, 1));
        }
        byte[] firstBytes = File.ReadAllBytes(firstPath);

        // Created within the same second as the first: the name must still sort after it.
        using (var second = new EventFileWriter(dir.Path))
        {
            Assert.NotEqual(firstPath, second.FilePath);
            Assert.True(string.CompareOrdinal(Path.GetFileName(second.FilePath), Path.GetFileName(firstPath)) > 0,
                $"{second.FilePath} does not sort after {firstPath}");
            second.Write(Scalar("loss", 2, 2));
        }
        Assert.Equal(firstBytes, File.ReadAllBytes(firstPath));
        string[] names = [.. Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];
        Assert.Equal(2, names.Length);
        Assert.Equal(Path.GetFileName(firstPath), names[0]);
    }

    [Fact]
    public void NewFileSortsAfterAFileStampedInTheFuture()
    {
        // A clock that went backwards, or another writer's file from "later": order must still hold.
        using var dir = new TempDirectory();
        string future = dir["events.out.tfevents.9999999990.otherhost.1.1"];
        File.WriteAllBytes(future, [1, 2, 3]);
        using var writer = new EventFileWriter(dir.Path);
        Assert.StartsWith("events.out.tfevents.9999999991.", Path.GetFileName(writer.FilePath));
        Assert.Equal([1, 2, 3], File.ReadAllBytes(future));
    }

    [Fact]
    public void AFileCutAtEveryOffsetYieldsEveryWholeRecordBeforeTheCut()
    {
        using var dir = new TempDirectory();
        string path;
        using (var writer = new EventFileWriter(dir.Path))
        {
            path = writer.FilePath;
            for (int step = 1; step <= 4; step++)
                writer.Write(Scalar(step % 2 == 0 ? "loss" : "accuracy/train", step * 0.5f, step));
            writer.Write(new Event { WallTime = 1700000010.0, Step = 9, SessionLog = new SessionLog { Status = SessionLog.Types.SessionStatus.Checkpoint, CheckpointPath = "ckpt-9" } });
        }
        byte[] bytes = File.ReadAllBytes(path);
        EventFileContents whole = EventFileReader.Read(bytes);
        Assert.Equal(ReadEnd.CleanEof, whole.End);
        Assert.Equal(6, whole.Events.Count);
        Assert.Equal(bytes.Length, whole.RecordEnds[^1]);

        for (int cut = 0; cut <= bytes.Length; cut++)
        {
            EventFileContents part = EventFileReader.Read(bytes.AsSpan(0, cut));
            int expectedCount = whole.RecordEnds.Count(end => end <= cut);
            bool atBoundary = cut == 0 || whole.RecordEnds.Contains(cut);
            Assert.True(expectedCount == part.Events.Count, $"cut at {cut}: {part.Events.Count} records, expected {expectedCount}");
            Assert.True((atBoundary ? ReadEnd.CleanEof : ReadEnd.TruncatedTail) == part.End, $"cut at {cut}: {part.End}");
            for (int i = 0; i < expectedCount; i++)
                Assert.Equal(whole.Events[i], part.Events[i]);
        }
    }

    [Fact]
    public void AFlippedPayloadByteFailsTheDataCrcAndKeepsEarlierRecords()
    {
        using var dir = new TempDirectory();
        string path;
        using (var writer = new EventFileWriter(dir.Path))
        {
            path = writer.FilePath;
            writer.Write(Scalar("loss", 0.5f, 1));
            writer.Write(Scalar("loss", 0.25f, 2));
        }
        byte[] bytes = File.ReadAllBytes(path);
        EventFileContents whole = EventFileReader.Read(bytes);
        for (int record = 0; record < whole.RecordEnds.Count; record++)
        {
            long start = record == 0 ? 0 : whole.RecordEnds[record - 1];
            for (long offset = start + 12; offset < whole.RecordEnds[record] - 4; offset++)
            {
                byte[] damaged = (byte[])bytes.Clone();
                damaged[offset] ^= 0x40;
                EventFileContents read = EventFileReader.Read(damaged);
                Assert.Equal(ReadEnd.BadDataCrc, read.End);
                Assert.Equal(record, read.Events.Count);
            }
        }
    }

    [Fact]
    public void AZeroFilledTailFailsTheLengthCrc()
    {
        // What a file system may leave after a crash: zeros where the last blocks were.
        using var dir = new TempDirectory();
        string path;
        using (var writer = new EventFileWriter(dir.Path))
            path = writer.FilePath;
        byte[] bytes = [.. File.ReadAllBytes(path), .. new byte[64]];
        EventFileContents read = EventFileReader.Read(bytes);
        Assert.Equal(ReadEnd.BadLengthCrc, read.End);
        Assert.Single(read.Events);
    }

    [Fact]
    public void RejectsANonFiniteWallTimeAndKeepsTheFileReadable()
    {
        using var dir = new TempDirectory();
        using var writer = new EventFileWriter(dir.Path);
        var error = Assert.Throws<ArgumentException>(() => writer.Write(new Event { WallTime = double.NaN, Step = 1 }));
        Assert.Contains("NaN", error.Message);
        Assert.Throws<ArgumentException>(() => writer.Write(new Event { WallTime = double.PositiveInfinity }));
        writer.Write(Scalar("ok", 1, 2));
        writer.Flush();
        EventFileContents contents = EventFileReader.Read(writer.FilePath);
        Assert.Equal(ReadEnd.CleanEof, contents.End);
        Assert.Equal(2, contents.Events.Count);
    }

    [Fact]
    public void ConcurrentWritesProduceWholeRecords()
    {
        using var dir = new TempDirectory();
        string path;
        using (var writer = new EventFileWriter(dir.Path))
        {
            path = writer.FilePath;
            Parallel.For(0, 4, thread =>
            {
                for (int i = 0; i < 50; i++)
                    writer.Write(Scalar($"thread{thread}", i, thread * 1000 + i));
            });
        }
        EventFileContents contents = EventFileReader.Read(path);
        Assert.Equal(ReadEnd.CleanEof, contents.End);
        Assert.Equal(201, contents.Events.Count);
        Assert.Equal(200, contents.Events.Skip(1).Select(e => e.Step).Distinct().Count());
    }

    [Fact]
    public void UseAfterDisposeThrows()
    {
        using var dir = new TempDirectory();
        var writer = new EventFileWriter(dir.Path);
        writer.Dispose();
        writer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => writer.Write(Scalar("late", 1, 1)));
        Assert.Throws<ObjectDisposedException>(writer.Flush);
    }

    [Fact]
    public void RejectsAnInvalidFlushInterval()
    {
        using var dir = new TempDirectory();
        Assert.Throws<ArgumentOutOfRangeException>(() => new EventFileWriter(dir.Path, TimeSpan.Zero));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
