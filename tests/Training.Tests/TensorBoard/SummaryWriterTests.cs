using Google.Protobuf;
using GpuDeconv.Training.Proto;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class SummaryWriterTests
{
    // A real session: every kind of value, read back with the tests' reader, PNGs decoded.
    [Fact]
    public void ASessionReadsBackWithEveryValueAndItsMetadata()
    {
        using var dir = new TempDirectory();
        var random = new Random(42);
        byte[] rgbHwc = RandomBytes(random, 5 * 4 * 3);
        float[] grayChw = [-1f, 0f, 0.5f, 1f, 2f, -2f];                 // 1x2x3
        byte[] batch = RandomBytes(random, 4 * 3 * 2 * 3);               // NCHW, 4 images of 3x2x2... see below
        float[] floatBatch = [.. Enumerable.Range(0, 10 * 2 * 2).Select(i => (float)(i % 7) - 1f)];  // 10 gray 2x2, NHWC
        double[] weights = [.. Enumerable.Range(0, 100).Select(_ => random.NextDouble() - 0.5)];

        string path;
        double before = EventFileWriter.UnixSecondsNow();
        using (var writer = new SummaryWriter(dir["runs/first"]))
        {
            path = writer.FilePath;
            Assert.Equal(Path.GetFullPath(dir["runs/first"]), writer.LogDirectory);
            writer.AddScalar("loss", 0.25f, 7);
            writer.AddScalar("nan", float.NaN, 8);
            writer.AddImage("rgb", rgbHwc, 5, 4, 3, ImageLayout.Hwc, 1);
            writer.AddImage("gray", grayChw, 2, 3, 1, ImageLayout.Chw, 2);
            writer.AddImages("input", batch, 3, 2, 3, ImageLayout.Chw, 3);              // 4 images, 3 shown
            writer.AddImages("single", batch, 3, 2, 3, ImageLayout.Chw, 4, maxOutputs: 1);
            writer.AddImageGrid("grid", floatBatch, 2, 2, 1, ImageLayout.Hwc, 5);
            writer.AddHistogram("weights", weights, 6);
            writer.AddHistogram("weights32", [0.5f, 0.5f, 1.5f], 6);
            writer.AddText("note", "hi", 3);
        }
        double after = EventFileWriter.UnixSecondsNow();

        EventFileContents contents = EventFileReader.Read(path);
        Assert.Equal(ReadEnd.CleanEof, contents.End);
        IReadOnlyList<Event> events = contents.Events;
        Assert.Equal(11, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        foreach (Event e in events)
            Assert.InRange(e.WallTime, before - 1, after + 1);

        // Scalars: simple_value with no metadata, laid out as in worked record 2 of docs/reference/tensorboard-format.md section 2.
        Assert.Equal(7, events[1].Step);
        Assert.Equal(Convert.FromHexString("0a0b0a046c6f737315" + "0000803e"), events[1].Summary.ToByteArray());
        Assert.True(float.IsNaN(events[2].Summary.Value[0].SimpleValue));

        // An RGB image: colorspace 3, PNG pixels as given.
        Summary.Types.Value rgb = Assert.Single(events[3].Summary.Value);
        AssertImage(rgb, "rgb", 5, 4, 3, rgbHwc);

        // A float gray CHW image stays gray and is scaled as TF1 does: [-1,0,0.5,1,2,-2] over max |v| = 2.
        AssertImage(Assert.Single(events[4].Summary.Value), "gray", 2, 3, 1, [64, 128, 159, 191, 255, 1]);

        // A batch with max_outputs 3: tags name/image/i, the first three images, CHW -> HWC.
        Assert.Equal(3, events[5].Step);
        Assert.Equal(["input/image/0", "input/image/1", "input/image/2"], events[5].Summary.Value.Select(v => v.Tag));
        for (int i = 0; i < 3; i++)
            AssertImage(events[5].Summary.Value[i], $"input/image/{i}", 3, 2, 3,
                ByteImage.FromBytes(batch.AsSpan(i * 18, 18), 3, 2, 3, ImageLayout.Chw).Pixels);
        AssertImage(Assert.Single(events[6].Summary.Value), "single/image", 3, 2, 3,
            ByteImage.FromBytes(batch.AsSpan(0, 18), 3, 2, 3, ImageLayout.Chw).Pixels);

        // The grid: 10 images in 8 columns and 2 rows, each scaled on its own, unused cells black.
        Summary.Types.Value grid = Assert.Single(events[7].Summary.Value);
        var expectedGrid = new byte[4 * 16];
        for (int n = 0; n < 10; n++)
        {
            byte[] cell = ByteImage.FromFloats(floatBatch.AsSpan(n * 4, 4), 2, 2, 1, ImageLayout.Hwc).Pixels;
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 2; x++)
                    expectedGrid[(n / 8 * 2 + y) * 16 + n % 8 * 2 + x] = cell[y * 2 + x];
        }
        AssertImage(grid, "grid", 4, 16, 1, expectedGrid);

        // Histograms: no metadata, TF buckets, consistent totals.
        Summary.Types.Value histogram = Assert.Single(events[8].Summary.Value);
        Assert.Equal("weights", histogram.Tag);
        Assert.Null(histogram.Metadata);
        Assert.Equal(Histogram.Build(weights), histogram.Histo);
        AssertHistogramInvariants(histogram.Histo);
        HistogramProto small = events[9].Summary.Value[0].Histo;
        Assert.Equal(14, small.Bucket.Count);
        AssertHistogramInvariants(small);

        // Text: tensorboardX's layout byte for byte, metadata included (worked record 3 of docs/reference/tensorboard-format.md section 2).
        Assert.Equal(3, events[10].Step);
        Assert.Equal(Convert.FromHexString(RecordWriterTests.TextPayload.Replace(" ", ""))[9..], events[10].ToByteArray()[9..]);
        Summary.Types.Value text = Assert.Single(events[10].Summary.Value);
        Assert.Equal("note/text_summary", text.Tag);
        Assert.Equal("text", text.Metadata.PluginData.PluginName);
        Assert.Equal("hi", text.Tensor.StringVal[0].ToStringUtf8());
    }

    [Fact]
    public void EveryTagsFirstValueCarriesTheMetadataItsPluginNeeds()
    {
        using var dir = new TempDirectory();
        string path;
        using (var writer = new SummaryWriter(dir.Path))
        {
            path = writer.FilePath;
            for (int step = 0; step < 3; step++)
            {
                writer.AddText("log", $"step {step}", step);
                writer.AddImage("img", new byte[4], 2, 2, 1, ImageLayout.Hwc, step);
            }
        }
        var values = EventFileReader.Read(path).Events.Skip(1).SelectMany(e => e.Summary.Value).ToList();
        Assert.Equal(6, values.Count);
        Assert.All(values.Where(v => v.Tag == "log/text_summary"), v => Assert.Equal("text", v.Metadata.PluginData.PluginName));
        Assert.All(values.Where(v => v.Tag == "img"), v => Assert.Equal("images", v.Metadata.PluginData.PluginName));
        Assert.All(values, v => Assert.True(v.Metadata.PluginData.Content.IsEmpty));
    }

    [Fact]
    public void FlushMakesEventsVisibleWhileTheWriterIsOpen()
    {
        using var dir = new TempDirectory();
        using var writer = new SummaryWriter(dir.Path, Timeout.InfiniteTimeSpan);
        writer.AddScalar("a", 1, 1);
        Assert.Single(EventFileReader.Read(writer.FilePath).Events);
        writer.Flush();
        Assert.Equal(2, EventFileReader.Read(writer.FilePath).Events.Count);
    }

    [Fact]
    public void ReportsBadArguments()
    {
        using var dir = new TempDirectory();
        using var writer = new SummaryWriter(dir.Path);
        Assert.Throws<ArgumentException>(() => writer.AddScalar("", 1, 1));
        Assert.Throws<ArgumentNullException>(() => writer.AddText(null!, "x", 1));
        var batchError = Assert.Throws<ArgumentException>(() => writer.AddImages("b", new byte[13], 2, 2, 3, ImageLayout.Hwc, 1));
        Assert.Contains("13 values", batchError.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.AddImages("b", new byte[12], 2, 2, 3, ImageLayout.Hwc, 1, maxOutputs: 0));
        var histogramError = Assert.Throws<ArgumentException>(() => writer.AddHistogram("w", [1f, float.NaN], 4));
        Assert.Contains("'w' at step 4", histogramError.Message);
        Assert.Contains("values[1] is NaN", histogramError.Message);
        writer.Flush();
        // Failed calls wrote nothing: only the file-version record is there.
        Assert.Single(EventFileReader.Read(writer.FilePath).Events);
    }

    static void AssertImage(Summary.Types.Value value, string tag, int height, int width, int channels, byte[] pixels)
    {
        Assert.Equal(tag, value.Tag);
        Assert.Equal("images", value.Metadata.PluginData.PluginName);
        Summary.Types.Image image = value.Image;
        Assert.Equal((height, width, channels), (image.Height, image.Width, image.Colorspace));
        DecodedPng png = PngDecoder.Decode(image.EncodedImageString.ToByteArray());
        Assert.Equal((height, width, channels), (png.Height, png.Width, png.Channels));
        Assert.Equal(pixels, png.Pixels);
    }

    static void AssertHistogramInvariants(HistogramProto h)
    {
        Assert.Equal(h.Bucket.Count, h.BucketLimit.Count);
        for (int i = 1; i < h.BucketLimit.Count; i++)
            Assert.True(h.BucketLimit[i] >= h.BucketLimit[i - 1]);
        Assert.True(h.Bucket.Sum() <= h.Num);
    }

    static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }
}
