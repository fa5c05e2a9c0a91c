using System.Text;
using Google.Protobuf;
using GpuDeconv.Training.Proto;

namespace GpuDeconv.Training;

/// <summary>
/// Writes scalars, images, histograms and text for TensorBoard into a new event file in a run directory
/// (open it with <c>tensorboard --logdir &lt;parent of the run&gt;</c>).
/// </summary>
/// <remarks>
/// Values are built as the reference writers build them (docs/reference/tensorboard-format.md section 4): scalars as
/// <c>simple_value</c>; images as PNG <c>Summary.Image</c> values with the <c>images</c> plugin metadata
/// (tensorboardX's layout; colorspace = channels, and gray stays a 1-channel PNG as in TF1);
/// histograms with TF's default edges; text as a DT_STRING tensor of shape [1] under <c>tag/text_summary</c>
/// with the <c>text</c> plugin metadata. Each call writes one event; file handling, flushing and crash
/// safety are <see cref="EventFileWriter"/>'s. Thread-safe.
/// </remarks>
public sealed class SummaryWriter : IDisposable
{
    readonly EventFileWriter _events;

    /// <summary>Creates <paramref name="logDirectory"/> if needed and starts a new event file in it.</summary>
    /// <param name="logDirectory">The run directory (TensorBoard names the run by its path under <c>--logdir</c>).</param>
    /// <param name="flushInterval">How often records reach the disk; default 10 s (see <see cref="EventFileWriter"/>).</param>
    /// <exception cref="ArgumentException"><paramref name="logDirectory"/> is empty or the interval is invalid.</exception>
    /// <exception cref="IOException">The directory or file cannot be created.</exception>
    public SummaryWriter(string logDirectory, TimeSpan? flushInterval = null)
    {
        _events = new EventFileWriter(logDirectory, flushInterval);
        LogDirectory = Path.GetFullPath(logDirectory);
    }

    /// <summary>The run directory, as a full path.</summary>
    public string LogDirectory { get; }

    /// <summary>The event file this writer appends to.</summary>
    public string FilePath => _events.FilePath;

    /// <summary>Records <paramref name="value"/> (NaN and infinities included, which TensorBoard shows) for <paramref name="tag"/> at <paramref name="step"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is empty.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddScalar(string tag, float value, long step)
    {
        CheckTag(tag);
        Write(step, new Summary.Types.Value { Tag = tag, SimpleValue = value });
    }

    /// <summary>Records <paramref name="image"/> as a PNG under <paramref name="tag"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is empty.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddImage(string tag, ByteImage image, long step)
    {
        CheckTag(tag);
        ArgumentNullException.ThrowIfNull(image);
        Write(step, ImageValue(tag, image));
    }

    /// <summary>Records an 8-bit image (HWC or CHW; 1, 2, 3 or 4 channels) as a PNG under <paramref name="tag"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is empty, or the sizes do not match <paramref name="pixels"/>.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddImage(string tag, ReadOnlySpan<byte> pixels, int height, int width, int channels, ImageLayout layout, long step) =>
        AddImage(tag, ByteImage.FromBytes(pixels, height, width, channels, layout), step);

    /// <summary>Records a float image as a PNG under <paramref name="tag"/>, scaled to bytes as TF1's <c>tf.summary.image</c> does (<see cref="ByteImage.FromFloats"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is empty, or the sizes do not match <paramref name="pixels"/>.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddImage(string tag, ReadOnlySpan<float> pixels, int height, int width, int channels, ImageLayout layout, long step) =>
        AddImage(tag, ByteImage.FromFloats(pixels, height, width, channels, layout), step);

    /// <summary>
    /// Records the first <c>min(N, maxOutputs)</c> images of an 8-bit batch (NHWC or NCHW) in one event, as TF1's
    /// <c>tf.summary.image(name, batch, maxOutputs)</c>: tags <c>name/image/0</c>, <c>name/image/1</c>, ..., or
    /// <c>name/image</c> when <paramref name="maxOutputs"/> is 1.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, <paramref name="maxOutputs"/> &lt; 1, or <paramref name="batch"/> is not a whole, non-empty number of images.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddImages(string name, ReadOnlySpan<byte> batch, int height, int width, int channels, ImageLayout layout, long step, int maxOutputs = 3) =>
        AddImages(name, batch, height, width, channels, layout, step, maxOutputs, ByteImage.FromBytes);

    /// <summary>
    /// As the 8-bit <see cref="AddImages(string, ReadOnlySpan{byte}, int, int, int, ImageLayout, long, int)"/>, for a float
    /// batch; each image is scaled to bytes on its own, as TF1 does (<see cref="ByteImage.FromFloats"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, <paramref name="maxOutputs"/> &lt; 1, or <paramref name="batch"/> is not a whole, non-empty number of images.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddImages(string name, ReadOnlySpan<float> batch, int height, int width, int channels, ImageLayout layout, long step, int maxOutputs = 3) =>
        AddImages(name, batch, height, width, channels, layout, step, maxOutputs, ByteImage.FromFloats);

    /// <summary>
    /// Records the first <c>min(N, maxOutputs)</c> of <paramref name="images"/> in one event under TF1's batch tags
    /// (<c>name/image/0</c>, ..., or <c>name/image</c> when <paramref name="maxOutputs"/> is 1), as the pixel-batch overloads do.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, <paramref name="images"/> is empty or holds a null, or <paramref name="maxOutputs"/> &lt; 1.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddImages(string name, IReadOnlyList<ByteImage> images, long step, int maxOutputs = 3)
    {
        CheckTag(name, nameof(name));
        ArgumentNullException.ThrowIfNull(images);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOutputs, 1);
        if (images.Count == 0 || images.Any(image => image is null))
            throw new ArgumentException($"AddImages '{name}': the list must hold at least one image and no nulls.", nameof(images));
        int shown = Math.Min(images.Count, maxOutputs);
        var values = new Summary.Types.Value[shown];
        for (int i = 0; i < shown; i++)
            values[i] = ImageValue(BatchTag(name, i, maxOutputs), images[i]);
        Write(step, values);
    }

    /// <summary>How one image of a batch becomes bytes: <see cref="ByteImage.FromBytes"/> or <see cref="ByteImage.FromFloats"/>.</summary>
    private delegate ByteImage ImageConverter<T>(ReadOnlySpan<T> pixels, int height, int width, int channels, ImageLayout layout);

    private void AddImages<T>(string name, ReadOnlySpan<T> batch, int height, int width, int channels, ImageLayout layout, long step, int maxOutputs,
        ImageConverter<T> convert)
    {
        CheckTag(name, nameof(name));
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOutputs, 1);
        int size = ImageSize(batch.Length, height, width, channels, out int count);
        int shown = Math.Min(count, maxOutputs);
        var values = new Summary.Types.Value[shown];
        for (int i = 0; i < shown; i++)
            values[i] = ImageValue(BatchTag(name, i, maxOutputs), convert(batch.Slice(i * size, size), height, width, channels, layout));
        Write(step, values);
    }

    /// <summary>
    /// Records a whole 8-bit batch (NHWC or NCHW) as one grid image under <paramref name="tag"/>, as
    /// <c>add_images</c> does: <c>min(N, 8)</c> columns, row-major, unused cells black (<see cref="ImageGrid.Tile"/>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is empty, or <paramref name="batch"/> is not a whole, non-empty number of images.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddImageGrid(string tag, ReadOnlySpan<byte> batch, int height, int width, int channels, ImageLayout layout, long step) =>
        AddImageGrid(tag, batch, height, width, channels, layout, step, ByteImage.FromBytes);

    /// <summary>
    /// As the 8-bit <see cref="AddImageGrid(string, ReadOnlySpan{byte}, int, int, int, ImageLayout, long)"/>, for a float
    /// batch; each cell is scaled to bytes on its own (<see cref="ByteImage.FromFloats"/>) before tiling.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is empty, or <paramref name="batch"/> is not a whole, non-empty number of images.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddImageGrid(string tag, ReadOnlySpan<float> batch, int height, int width, int channels, ImageLayout layout, long step) =>
        AddImageGrid(tag, batch, height, width, channels, layout, step, ByteImage.FromFloats);

    private void AddImageGrid<T>(string tag, ReadOnlySpan<T> batch, int height, int width, int channels, ImageLayout layout, long step, ImageConverter<T> convert)
    {
        CheckTag(tag);
        int size = ImageSize(batch.Length, height, width, channels, out int count);
        var images = new ByteImage[count];
        for (int i = 0; i < count; i++)
            images[i] = convert(batch.Slice(i * size, size), height, width, channels, layout);
        Write(step, ImageValue(tag, ImageGrid.Tile(images)));
    }

    /// <summary>Records the histogram of <paramref name="values"/> with TF's default buckets (<see cref="Histogram.Build(ReadOnlySpan{double})"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is empty, or <paramref name="values"/> is empty, holds a NaN or lies wholly outside the buckets.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddHistogram(string tag, ReadOnlySpan<double> values, long step)
    {
        CheckTag(tag);
        HistogramProto histogram;
        try
        {
            histogram = Histogram.Build(values);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"AddHistogram '{tag}' at step {step}: {e.Message}", nameof(values), e);
        }
        Write(step, new Summary.Types.Value { Tag = tag, Histo = histogram });
    }

    /// <summary>Records the histogram of <paramref name="values"/>, widened to double (see <see cref="AddHistogram(string, ReadOnlySpan{double}, long)"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is empty, or <paramref name="values"/> is empty, holds a NaN or lies wholly outside the buckets.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddHistogram(string tag, ReadOnlySpan<float> values, long step)
    {
        var widened = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
            widened[i] = values[i];
        AddHistogram(tag, widened, step);
    }

    /// <summary>Records <paramref name="text"/> (markdown) under <c>tag + "/text_summary"</c>, shown by TensorBoard's text plugin.</summary>
    /// <exception cref="ArgumentException"><paramref name="tag"/> is empty.</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The write failed.</exception>
    public void AddText(string tag, string text, long step)
    {
        CheckTag(tag);
        ArgumentNullException.ThrowIfNull(text);
        var tensor = new TensorProto
        {
            Dtype = DataType.DtString,
            TensorShape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dim { Size = 1 } } },
            StringVal = { ByteString.CopyFromUtf8(text) },
        };
        // TensorBoard picks a tag's plugin from its first value, so every value carries the metadata.
        Write(step, new Summary.Types.Value { Tag = tag + "/text_summary", Tensor = tensor, Metadata = PluginMetadata("text") });
    }

    /// <summary>Writes buffered events to disk (see <see cref="EventFileWriter.Flush"/>).</summary>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="IOException">The flush failed.</exception>
    public void Flush() => _events.Flush();

    /// <summary>Flushes and closes the event file.</summary>
    /// <exception cref="IOException">The final flush failed.</exception>
    public void Dispose() => _events.Dispose();

    void Write(long step, params Summary.Types.Value[] values)
    {
        var summary = new Summary();
        summary.Value.Add(values);
        _events.Write(new Event { WallTime = EventFileWriter.UnixSecondsNow(), Step = step, Summary = summary });
    }

    static Summary.Types.Value ImageValue(string tag, ByteImage image) => new()
    {
        Tag = tag,
        Image = new Summary.Types.Image
        {
            Height = image.Height,
            Width = image.Width,
            Colorspace = image.Channels,
            EncodedImageString = ByteString.CopyFrom(image.EncodePng()),
        },
        Metadata = PluginMetadata("images"),
    };

    // Version 0 of every stock plugin's content message serialises to no bytes, so content stays empty.
    static SummaryMetadata PluginMetadata(string plugin) =>
        new() { PluginData = new SummaryMetadata.Types.PluginData { PluginName = plugin } };

    static string BatchTag(string name, int index, int maxOutputs) =>
        maxOutputs == 1 ? name + "/image" : $"{name}/image/{index}";

    static int ImageSize(int length, int height, int width, int channels, out int count)
    {
        if (height < 1 || width < 1 || channels is < 1 or > 4)
            throw new ArgumentOutOfRangeException(nameof(height),
                $"Images: height and width must be at least 1 and channels 1 to 4, but they are {height}, {width} and {channels}.");
        long size = (long)height * width * channels;
        if (length == 0 || length % size != 0)
            throw new ArgumentException(
                $"Images: the batch holds {length} values, which is not a whole, non-zero number of {height}x{width}x{channels} images ({size} values each).",
                "batch");
        count = (int)(length / size);
        return (int)size;
    }

    static void CheckTag(string tag, string paramName = "tag")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tag, paramName);
    }
}
