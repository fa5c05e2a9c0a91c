using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;
using GpuDeconv.Training.Proto;

namespace GpuDeconv.Training;

/// <summary>One logged scalar: the step it was logged at, the event's wall time (Unix seconds) and the value.</summary>
public readonly record struct ScalarPoint(long Step, double WallTime, double Value);

/// <summary>
/// The scalar values of a TensorBoard run, read back from its event files: <c>simple_value</c> scalars (what
/// <see cref="SummaryWriter.AddScalar"/> and TF1 write) and one-element tensors marked with the <c>scalars</c> plugin
/// (what TF2 and PyTorch's <c>new_style</c> write), each tag's points in the order they were written.
/// </summary>
/// <remarks>
/// Every record is checked with <see cref="RecordReader"/>. A torn last record (a run that crashed before its
/// final flush) is not an error: the whole records before it are read, and <see cref="Warnings"/> says where
/// the file was cut. A run written in several files (a resumed run) is read in file-name order, as TensorBoard reads
/// it, so a step logged again after a resume appears twice, the later value last.
/// </remarks>
public sealed class ScalarLog
{
    const string ScalarsPlugin = "scalars";

    readonly Dictionary<string, List<ScalarPoint>> _series = new(StringComparer.Ordinal);
    readonly List<string> _tags = [], _files = [], _warnings = [];
    // Tags whose first tensor value carried the scalars plugin: TF2 writes the metadata on a tag's first value only.
    readonly HashSet<string> _tensorScalarTags = new(StringComparer.Ordinal);

    ScalarLog()
    {
    }

    /// <summary>The tags that hold scalars, in the order they first appear.</summary>
    public IReadOnlyList<string> Tags => _tags;

    /// <summary>The event files read, in the order they were read.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <summary>One sentence per event file that ended in a torn record, naming the file and where it was cut.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>The points of <paramref name="tag"/>, in the order they were written.</summary>
    /// <exception cref="KeyNotFoundException">No scalar has that tag; the message lists the tags there are.</exception>
    public IReadOnlyList<ScalarPoint> this[string tag] => TryGet(tag, out var points) ? points
        : throw new KeyNotFoundException($"ScalarLog: no scalars are tagged '{tag}'; the tags are {(_tags.Count == 0 ? "none" : string.Join(", ", _tags))}.");

    /// <summary>The points of <paramref name="tag"/>, or false when no scalar has that tag.</summary>
    public bool TryGet(string tag, out IReadOnlyList<ScalarPoint> points)
    {
        bool found = _series.TryGetValue(tag, out var list);
        points = found ? list! : [];
        return found;
    }

    /// <summary>Whether <paramref name="path"/> is named like an event file (TensorBoard's rule: the name contains <c>tfevents</c>).</summary>
    public static bool IsEventFile(string path) => Path.GetFileName(path).Contains("tfevents", StringComparison.Ordinal);

    /// <summary>The event files directly in <paramref name="directory"/>, in name order (the order TensorBoard reads them); empty when there are none.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public static IReadOnlyList<string> EventFilesIn(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"'{directory}' does not exist.");
        var files = Directory.GetFiles(directory).Where(IsEventFile).ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>Reads the scalars of every event file directly in <paramref name="runDirectory"/>, in name order.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">The directory holds no event files (<c>events.out.tfevents.*</c>).</exception>
    /// <exception cref="InvalidDataException">A file is damaged (a CRC that does not match, a record that is not an Event); the message names the file, the record and its offset.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static ScalarLog ReadRun(string runDirectory)
    {
        var files = EventFilesIn(runDirectory);
        if (files.Count == 0)
            throw new FileNotFoundException($"'{runDirectory}' holds no TensorBoard event files (events.out.tfevents.*).", runDirectory);
        var log = new ScalarLog();
        foreach (string file in files)
            log.Add(file);
        return log;
    }

    /// <summary>Reads the scalars of one event file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is damaged; the message names it, the record and its offset.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ScalarLog ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var log = new ScalarLog();
        log.Add(path);
        return log;
    }

    void Add(string path)
    {
        // FileShare.ReadWrite: a running trainer still holds its event file open for writing.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 64 * 1024);
        var records = new RecordReader(stream);
        _files.Add(path);
        while (true)
        {
            long offset = records.Position;
            byte[]? payload;
            Event evt;
            try
            {
                payload = records.Read();
                if (payload is null) break;
                evt = Event.Parser.ParseFrom(payload);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{path}: {e.Message}.", e);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{path}: record {records.Records - 1} at byte {offset} has good CRCs but is not a TensorBoard Event ({e.Message.TrimEnd('.')})."), e);
            }
            if (evt.Summary is { } summary)
                foreach (var value in summary.Value)
                    if (ScalarOf(value) is { } scalar)
                        Append(value.Tag, new ScalarPoint(evt.Step, evt.WallTime, scalar));
        }
        if (records.TornTail is { } torn)
            _warnings.Add($"{path}: {torn}.");
    }

    void Append(string tag, ScalarPoint point)
    {
        if (!_series.TryGetValue(tag, out var points))
        {
            _series[tag] = points = [];
            _tags.Add(tag);
        }
        points.Add(point);
    }

    double? ScalarOf(Summary.Types.Value value)
    {
        switch (value.ValueCase)
        {
            case Summary.Types.Value.ValueOneofCase.SimpleValue:
                return value.SimpleValue;
            case Summary.Types.Value.ValueOneofCase.Tensor:
                if (value.Metadata?.PluginData?.PluginName == ScalarsPlugin || value.Metadata?.DataClass == DataClass.Scalar)
                    _tensorScalarTags.Add(value.Tag);
                return _tensorScalarTags.Contains(value.Tag) ? SingleNumber(value.Tensor) : null;
            default:
                return null;
        }
    }

    // The one element of a numeric tensor, from its typed list or its raw little-endian bytes; null for anything else.
    static double? SingleNumber(TensorProto tensor)
    {
        var raw = tensor.TensorContent.Span;
        return tensor.Dtype switch
        {
            DataType.DtFloat when tensor.FloatVal.Count == 1 => tensor.FloatVal[0],
            DataType.DtFloat when raw.Length == sizeof(float) => BinaryPrimitives.ReadSingleLittleEndian(raw),
            DataType.DtDouble when tensor.DoubleVal.Count == 1 => tensor.DoubleVal[0],
            DataType.DtDouble when raw.Length == sizeof(double) => BinaryPrimitives.ReadDoubleLittleEndian(raw),
            DataType.DtInt32 or DataType.DtInt16 or DataType.DtInt8 or DataType.DtUint8 when tensor.IntVal.Count == 1 => tensor.IntVal[0],
            DataType.DtInt32 when raw.Length == sizeof(int) => BinaryPrimitives.ReadInt32LittleEndian(raw),
            DataType.DtInt64 when tensor.Int64Val.Count == 1 => tensor.Int64Val[0],
            DataType.DtInt64 when raw.Length == sizeof(long) => BinaryPrimitives.ReadInt64LittleEndian(raw),
            _ => null,
        };
    }
}
