// The safetensors format (Hugging Face), which Python opens with `safetensors.safe_open` or `load_file`:
//   [8 bytes] N, the header length, unsigned 64-bit little-endian
//   [N bytes] the header: UTF-8 JSON, an object mapping each tensor name to
//             {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, plus an optional
//             "__metadata__" object of string -> string; space-padded so the data starts 8-byte aligned
//   [rest]    the data: each tensor's elements little-endian, row-major, at [begin, end) relative to the
//             start of the data; tensors contiguous from 0 to the end of the file, no gaps, no overlap.
// The reader checks what the reference reader (safetensors/src/tensor.rs) checks, and says where and why.
using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>Where one tensor lies in a safetensors file: its name, element type, shape and byte range
/// [<paramref name="Begin"/>, <paramref name="End"/>) relative to the start of the data section.</summary>
public sealed record SafeTensorInfo(string Name, SafeTensorsDType DType, Shape Shape, long Begin, long End);

/// <summary>A safetensors header: the tensors in file order, the string metadata, and the file offset where the data starts.</summary>
public sealed record SafeTensorsHeader(IReadOnlyList<SafeTensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata, long DataStart);

/// <summary>The tensors (in file order) and the string metadata of a safetensors file.</summary>
public sealed record SafeTensorsContents(IReadOnlyDictionary<string, HostTensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

/// <summary>Reads and writes safetensors files of host tensors and string metadata.</summary>
public static class SafeTensors
{
    /// <summary>The largest header the reference reader accepts (100 MB); a larger length means the file is not safetensors.</summary>
    public const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";
    private const string DTypeNames = "U8, I32, I64, F32, F64";

    /// <summary>Writes <paramref name="tensors"/> and <paramref name="metadata"/> to <paramref name="stream"/> in the safetensors format,
    /// tensors ordered as the reference writer orders them (larger element types first, then by name).</summary>
    /// <exception cref="ArgumentException">A tensor is null or named <c>__metadata__</c>, or a metadata value is null.</exception>
    public static void Write(Stream stream, IReadOnlyDictionary<string, HostTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        CheckLittleEndian();
        var entries = new List<(byte[] Name, HostTensor Tensor)>(tensors.Count);
        foreach (var (name, tensor) in tensors)
        {
            if (name == MetadataKey)
                throw new ArgumentException($"SafeTensors: no tensor may be named \"{MetadataKey}\"; the header keeps that key for the metadata.", nameof(tensors));
            if (tensor is null)
                throw new ArgumentException($"SafeTensors: tensor \"{name}\" is null.", nameof(tensors));
            entries.Add((Encoding.UTF8.GetBytes(name), tensor));
        }
        // The reference writer sorts by dtype, largest alignment first (the order of its Dtype enum), then by the
        // names' bytes: with the header padded to 8, every tensor's data then starts aligned to its element size.
        entries.Sort((a, b) =>
        {
            int byType = WriteRank(b.Tensor.DType).CompareTo(WriteRank(a.Tensor.DType));
            return byType != 0 ? byType : a.Name.AsSpan().SequenceCompareTo(b.Name);
        });

        byte[] header = BuildHeader(entries, metadata);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (var (_, tensor) in entries)
            stream.Write(tensor.Bytes);
    }

    /// <summary>Writes a safetensors file at <paramref name="path"/> atomically: a crash during the write leaves any previous file there intact.</summary>
    /// <exception cref="ArgumentException">A tensor is null or named <c>__metadata__</c>, or a metadata value is null.</exception>
    /// <exception cref="IOException">The file could not be written; the previous file, if any, is unchanged.</exception>
    public static void Save(string path, IReadOnlyDictionary<string, HostTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, stream => Write(stream, tensors, metadata));
    }

    /// <summary>Reads and validates the header of the safetensors file at <paramref name="path"/>, without reading the tensors' data.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message names the file, the tensor and the offset.</exception>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenRead(path);
        return ReadHeader(file, path, file.Length);
    }

    /// <summary>Reads and validates the safetensors file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message names the file, the tensor and the offset.</exception>
    public static SafeTensorsContents Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenRead(path);
        return Read(file, path);
    }

    /// <summary>Reads and validates a safetensors file from the current position to the end of the seekable <paramref name="stream"/>;
    /// <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="ArgumentException">The stream cannot seek (its length is needed to check the offsets).</exception>
    /// <exception cref="InvalidDataException">The data is not a valid safetensors file; the message names the source, the tensor and the offset.</exception>
    public static SafeTensorsContents Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        if (!stream.CanSeek)
            throw new ArgumentException($"SafeTensors: {source}: the stream must be seekable; its length is needed to check the offsets.", nameof(stream));
        CheckLittleEndian();
        var header = ReadHeader(stream, source, stream.Length - stream.Position);
        var tensors = new Dictionary<string, HostTensor>(header.Tensors.Count, StringComparer.Ordinal);
        // Validation made the tensors contiguous from offset 0 in this order, so they are read back to back.
        foreach (var info in header.Tensors)
        {
            var tensor = HostTensor.Zeros(info.DType, info.Shape);
            try
            {
                stream.ReadExactly(tensor.Bytes);
            }
            catch (EndOfStreamException)
            {
                throw Invalid(source, $"the file ended inside the data of tensor \"{info.Name}\" (file offsets {header.DataStart + info.Begin}..{header.DataStart + info.End}), although its length was checked (the file changed while it was read)");
            }
            tensors.Add(info.Name, tensor);
        }
        return new SafeTensorsContents(tensors, header.Metadata);
    }

    internal static string DTypeName(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.U8 => "U8",
        SafeTensorsDType.I32 => "I32",
        SafeTensorsDType.I64 => "I64",
        SafeTensorsDType.F32 => "F32",
        SafeTensorsDType.F64 => "F64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "SafeTensors: unknown element type."),
    };

    private static SafeTensorsDType? ParseDType(string name) => name switch
    {
        "U8" => SafeTensorsDType.U8,
        "I32" => SafeTensorsDType.I32,
        "I64" => SafeTensorsDType.I64,
        "F32" => SafeTensorsDType.F32,
        "F64" => SafeTensorsDType.F64,
        _ => null,
    };

    // The position of each dtype in the reference's Dtype enum (BOOL=0, U8=1, ..., I32=9, U32=10, F32=11, F64=12, I64=13, U64=14).
    private static int WriteRank(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.U8 => 1,
        SafeTensorsDType.I32 => 9,
        SafeTensorsDType.F32 => 11,
        SafeTensorsDType.F64 => 12,
        SafeTensorsDType.I64 => 13,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "SafeTensors: unknown element type."),
    };

    private static byte[] BuildHeader(List<(byte[] Name, HostTensor Tensor)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps names such as "conv1/weight" and JSON-valued settings readable in the file; the header
        // is never embedded in HTML, which is all the default encoder guards against.
        var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                // Sorted so the same checkpoint always gives the same bytes.
                foreach (var (key, value) in metadata.OrderBy(pair => pair.Key, StringComparer.Ordinal))
                {
                    if (value is null)
                        throw new ArgumentException($"SafeTensors: metadata \"{key}\" is null; safetensors metadata maps strings to strings.", nameof(metadata));
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in entries)
            {
                long length = tensor.Bytes.Length;
                json.WriteStartObject(name);
                json.WriteString("dtype"u8, DTypeName(tensor.DType));
                json.WriteStartArray("shape"u8);
                foreach (int dim in tensor.Shape.AsSpan())
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets"u8);
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += length;
            }
            json.WriteEndObject();
        }
        int padding = (8 - buffer.WrittenCount % 8) % 8;
        buffer.GetSpan(padding)[..padding].Fill((byte)' ');
        buffer.Advance(padding);
        return buffer.WrittenSpan.ToArray();
    }

    private static SafeTensorsHeader ReadHeader(Stream stream, string source, long length)
    {
        if (length < 8)
            throw Invalid(source, $"the file is {length} bytes long; a safetensors file starts with an 8-byte header length (the file is truncated or not a safetensors file)");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderLength)
            throw Invalid(source, $"the header length at offset 0 is {headerLength} bytes, more than the {MaxHeaderLength} a safetensors header may have (the file is not a safetensors file or is damaged)");
        if ((long)headerLength > length - 8)
            throw Invalid(source, $"the header length at offset 0 is {headerLength} bytes, but only {length - 8} bytes follow it (the file is truncated or not a safetensors file)");

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataStart = 8 + (long)headerLength;
        var (tensors, metadata) = ParseHeader(headerBytes, source);
        Validate(tensors, source, dataStart, length - dataStart);
        return new SafeTensorsHeader(tensors, metadata, dataStart);
    }

    private static (List<SafeTensorInfo> Tensors, Dictionary<string, string> Metadata) ParseHeader(byte[] header, string source)
    {
        if (!Utf8.IsValid(header))
            throw Invalid(source, $"the header holds a byte sequence at offset {8 + FirstInvalidUtf8(header)} that is not UTF-8; the header must be UTF-8 JSON");

        var tensors = new List<SafeTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
                throw Invalid(source, $"the header at offset {Offset(ref reader)} is a JSON {Describe(ref reader)}; expected an object mapping tensor names to {{\"dtype\", \"shape\", \"data_offsets\"}}");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                long nameOffset = Offset(ref reader);
                string name = reader.GetString()!;
                if (!names.Add(name))
                    throw Invalid(source, $"\"{name}\" appears twice in the header (again at offset {nameOffset}); each tensor name must be unique");
                reader.Read();
                if (name == MetadataKey)
                    ParseMetadata(ref reader, metadata, source);
                else
                    tensors.Add(ParseTensor(ref reader, name, source));
            }
            // Past the closing brace only the padding (whitespace) may follow; the reader throws on anything else.
            if (reader.Read())
                throw Invalid(source, $"the header has more JSON after its object, at offset {Offset(ref reader)}");
        }
        catch (JsonException e)
        {
            string where = e.LineNumber == 0 && e.BytePositionInLine is long column ? $"at offset {8 + column}" : $"at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} of the header";
            throw Invalid(source, $"the header (offsets 8..{8 + header.Length}) is not valid JSON {where}: {FirstSentence(e.Message)}", e);
        }
        catch (InvalidOperationException e)
        {
            // GetString refuses a \uD800-style escape that is not half of a surrogate pair: valid JSON syntax, but no
            // string (serde_json, which the reference reader uses, refuses it too).
            throw Invalid(source, $"the header holds a string at offset {Offset(ref reader)} with an escape that is not valid UTF-16 (a lone surrogate such as \\ud800): {e.Message}", e);
        }
        return (tensors, metadata);
    }

    private static void ParseMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string source)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Invalid(source, $"\"{MetadataKey}\" at offset {Offset(ref reader)} is a JSON {Describe(ref reader)}; expected an object of string -> string");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw Invalid(source, $"metadata \"{key}\" at offset {Offset(ref reader)} is a JSON {Describe(ref reader)}; safetensors metadata values must be strings");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw Invalid(source, $"metadata \"{key}\" appears twice (again at offset {Offset(ref reader)})");
        }
    }

    private static SafeTensorInfo ParseTensor(ref Utf8JsonReader reader, string name, string source)
    {
        long entryOffset = Offset(ref reader);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Invalid(source, $"tensor \"{name}\" at offset {entryOffset} is a JSON {Describe(ref reader)}; expected an object {{\"dtype\", \"shape\", \"data_offsets\"}}");
        SafeTensorsDType? dtype = null;
        long[]? shape = null, offsets = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            reader.Read();
            long valueOffset = Offset(ref reader);
            switch (field)
            {
                case "dtype" when dtype is null:
                    if (reader.TokenType != JsonTokenType.String)
                        throw Invalid(source, $"tensor \"{name}\": \"dtype\" at offset {valueOffset} is a JSON {Describe(ref reader)}; expected a string, one of {DTypeNames}");
                    string dtypeName = reader.GetString()!;
                    dtype = ParseDType(dtypeName)
                        ?? throw Invalid(source, $"tensor \"{name}\": dtype \"{dtypeName}\" at offset {valueOffset} is not one GpuDeconv reads; expected one of {DTypeNames}");
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(ref reader, name, field, source);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(ref reader, name, field, source);
                    if (offsets.Length != 2)
                        throw Invalid(source, $"tensor \"{name}\": \"data_offsets\" at offset {valueOffset} holds {offsets.Length} numbers; expected two, [begin, end]");
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Invalid(source, $"tensor \"{name}\": \"{field}\" appears twice (again at offset {valueOffset})");
                default:
                    // Fields a later writer may add are skipped, as the reference reader skips them.
                    reader.Skip();
                    break;
            }
        }
        if (dtype is null || shape is null || offsets is null)
        {
            string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw Invalid(source, $"tensor \"{name}\" at offset {entryOffset} has no \"{missing}\"; each tensor needs \"dtype\", \"shape\" and \"data_offsets\"");
        }

        var dims = new int[shape.Length];
        long count = 1;
        bool tooMany = false;
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] > int.MaxValue)
                throw Invalid(source, $"tensor \"{name}\": dimension {i} of shape [{string.Join(", ", shape)}] is {shape[i]}; GpuDeconv shapes hold dimensions up to {int.MaxValue}");
            dims[i] = (int)shape[i];
            // Multiplied as Shape multiplies (left to right), so a shape that passes here also constructs.
            tooMany |= count > long.MaxValue / Math.Max(dims[i], 1);
            count = unchecked(count * dims[i]);
        }
        if (tooMany || count > Array.MaxLength)
            throw Invalid(source, $"tensor \"{name}\": shape [{string.Join(", ", shape)}] has more elements than a .NET array holds ({Array.MaxLength})");
        return new SafeTensorInfo(name, dtype.Value, new Shape(dims), offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(ref Utf8JsonReader reader, string name, string field, string source)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Invalid(source, $"tensor \"{name}\": \"{field}\" at offset {Offset(ref reader)} is a JSON {Describe(ref reader)}; expected an array of non-negative integers");
        var values = new List<long>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value) || value < 0)
                throw Invalid(source, $"tensor \"{name}\": {field}[{values.Count}] at offset {Offset(ref reader)} is {Describe(ref reader)}; expected a non-negative integer");
            values.Add(value);
        }
        return [.. values];
    }

    // The reference reader's rules: sorted by offset, the tensors tile [0, data length) exactly, and each tensor's byte
    // range is its element count times its element size.
    private static void Validate(List<SafeTensorInfo> tensors, string source, long dataStart, long dataLength)
    {
        tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long end = 0;
        SafeTensorInfo? previous = null;
        foreach (var t in tensors)
        {
            string offsets = $"data_offsets [{t.Begin}, {t.End}]";
            if (t.End < t.Begin)
                throw Invalid(source, $"tensor \"{t.Name}\": {offsets} end before they begin");
            if (t.End > dataLength)
                throw Invalid(source, $"tensor \"{t.Name}\": {offsets} run past the end of the data, which holds {dataLength} bytes (file offsets {dataStart}..{dataStart + dataLength}); the file is truncated or the offsets are wrong");
            if (t.Begin < end)
                throw Invalid(source, $"tensor \"{t.Name}\": {offsets} overlap those of tensor \"{previous!.Name}\" [{previous.Begin}, {previous.End}]");
            if (t.Begin > end)
                throw Invalid(source, $"tensor \"{t.Name}\": {offsets} begin at {t.Begin}, but the data before it ends at {end}; tensors must be contiguous (bytes {end}..{t.Begin} belong to no tensor)");
            long needed = t.Shape.Size * HostTensor.ItemSize(t.DType);
            if (t.End - t.Begin != needed)
                throw Invalid(source, $"tensor \"{t.Name}\": {DTypeName(t.DType)} {t.Shape} needs {needed} bytes, but its {offsets} span {t.End - t.Begin}");
            end = t.End;
            previous = t;
        }
        if (end != dataLength)
            throw Invalid(source, $"the tensors' data ends at byte {end} of the data, but the file has {dataLength - end} more bytes (file offsets {dataStart + end}..{dataStart + dataLength}) that belong to no tensor");
    }

    private static FileStream OpenRead(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);

    private static long Offset(ref Utf8JsonReader reader) => 8 + reader.TokenStartIndex;

    private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.StartObject => "object",
        JsonTokenType.StartArray => "array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => $"number {Encoding.UTF8.GetString(reader.ValueSpan)}",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        var other => other.ToString(),
    };

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        int i = 0;
        while (i < bytes.Length && Rune.DecodeFromUtf8(bytes[i..], out _, out int consumed) == OperationStatus.Done)
            i += consumed;
        return i;
    }

    // JsonException messages end with "Path: $ | LineNumber: 0 | BytePositionInLine: 12."; the offset is given separately.
    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut < 0 ? message : message[..cut]).TrimEnd().TrimEnd('.');
    }

    private static InvalidDataException Invalid(string source, string message, Exception? inner = null) =>
        new($"{source}: not a valid safetensors file: {message}.", inner);

    private static void CheckLittleEndian()
    {
        // safetensors data is little-endian; .NET runs little-endian on every platform GpuDeconv targets.
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("SafeTensors: safetensors data is little-endian and this host is big-endian.");
    }
}
