using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class SafeTensorsTests
{
    // --- building files by hand, from the format's definition --------------------------------------------------------

    /// <summary>8-byte little-endian header length, the header bytes, then the data.</summary>
    private static byte[] FileOf(byte[] header, params byte[][] data)
    {
        var bytes = new List<byte>();
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        bytes.AddRange(length);
        bytes.AddRange(header);
        foreach (var d in data) bytes.AddRange(d);
        return [.. bytes];
    }

    /// <summary>The JSON header padded with spaces to a multiple of 8 bytes, as the reference writer pads it.</summary>
    private static byte[] Padded(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        int padding = (8 - bytes.Length % 8) % 8;
        return [.. bytes, .. Enumerable.Repeat((byte)' ', padding)];
    }

    private static byte[] F32(params float[] values) => [.. values.SelectMany(v => { var b = new byte[4]; BinaryPrimitives.WriteSingleLittleEndian(b, v); return b; })];
    private static byte[] F64(params double[] values) => [.. values.SelectMany(v => { var b = new byte[8]; BinaryPrimitives.WriteDoubleLittleEndian(b, v); return b; })];
    private static byte[] I32(params int[] values) => [.. values.SelectMany(v => { var b = new byte[4]; BinaryPrimitives.WriteInt32LittleEndian(b, v); return b; })];
    private static byte[] I64(params long[] values) => [.. values.SelectMany(v => { var b = new byte[8]; BinaryPrimitives.WriteInt64LittleEndian(b, v); return b; })];

    private static byte[] Serialize(Dictionary<string, HostTensor> tensors, Dictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        SafeTensors.Write(stream, tensors, metadata);
        return stream.ToArray();
    }

    private static InvalidDataException ReadFails(byte[] bytes, string source = "model.safetensors") =>
        Assert.Throws<InvalidDataException>(() => SafeTensors.Read(new MemoryStream(bytes), source));

    // --- exact bytes ------------------------------------------------------------------------------------------------

    [Fact]
    public void OneTensorIsWrittenByteForByte()
    {
        // The reference implementation's own serialization vector: this header is exactly 64 bytes, so no padding.
        string json = """{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}""";
        Assert.Equal(64, json.Length);
        byte[] expected = FileOf(Encoding.ASCII.GetBytes(json), F32(0, 1, 2, 3, 4, 5));
        Assert.Equal(64, expected[0]);

        var actual = Serialize(new() { ["attn.0"] = new HostTensor<float>(new Shape(1, 2, 3), [0, 1, 2, 3, 4, 5]) });
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void TheHeaderIsPaddedWithSpacesToEightBytes()
    {
        // 65 bytes of JSON: seven spaces follow so the data starts at offset 8 + 72 = 80.
        string json = """{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}""";
        byte[] expected = FileOf([.. Encoding.ASCII.GetBytes(json), .. "       "u8.ToArray()], F32(0, 1, 2, 3, 4, 5));
        Assert.Equal(72, expected[0]);

        var actual = Serialize(new() { ["attn0"] = new HostTensor<float>(new Shape(1, 1, 2, 3), [0, 1, 2, 3, 4, 5]) });
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void EmptyFilesMatchTheReference()
    {
        Assert.Equal(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}', 32, 32, 32, 32, 32, 32 }, Serialize([]));

        byte[] withMetadata = FileOf([.. """{"__metadata__":{"framework":"pt"}}"""u8.ToArray(), .. "     "u8.ToArray()]);
        Assert.Equal(40, withMetadata[0]);
        Assert.Equal(withMetadata, Serialize([], new() { ["framework"] = "pt" }));
    }

    [Fact]
    public void TensorsAreOrderedByElementSizeThenNameAndMetadataComesFirst()
    {
        var tensors = new Dictionary<string, HostTensor>
        {
            ["b"] = new HostTensor<byte>(new Shape(3), [1, 2, 3]),
            ["w"] = new HostTensor<int>(new Shape(2), [-1, 2]),
            ["conv1/weight"] = new HostTensor<float>(new Shape(), [1.5f]),
            ["z"] = new HostTensor<double>(new Shape(0)),
            ["step"] = new HostTensor<long>(new Shape(), [7]),
        };
        var metadata = new Dictionary<string, string> { ["zeta"] = "1", ["note"] = "a \"quoted\" /path" };

        // I64 before F64 before F32 before I32 before U8 (the reference's order); names unescaped, quotes escaped.
        string json = """
            {"__metadata__":{"note":"a \"quoted\" /path","zeta":"1"},
            "step":{"dtype":"I64","shape":[],"data_offsets":[0,8]},
            "z":{"dtype":"F64","shape":[0],"data_offsets":[8,8]},
            "conv1/weight":{"dtype":"F32","shape":[],"data_offsets":[8,12]},
            "w":{"dtype":"I32","shape":[2],"data_offsets":[12,20]},
            "b":{"dtype":"U8","shape":[3],"data_offsets":[20,23]}}
            """.ReplaceLineEndings("");
        byte[] expected = FileOf(Padded(json), I64(7), F64(), F32(1.5f), I32(-1, 2), [1, 2, 3]);

        Assert.Equal(expected, Serialize(tensors, metadata));
    }

    // --- round trips ------------------------------------------------------------------------------------------------

    [Fact]
    public void EveryElementTypeAndShapeRoundTrips()
    {
        var random = new Random(1234);
        var tensors = new Dictionary<string, HostTensor>
        {
            ["u8"] = new HostTensor<byte>(new Shape(2, 3), [0, 1, 127, 128, 254, 255]),
            ["i32"] = new HostTensor<int>(new Shape(4), [int.MinValue, -1, 0, int.MaxValue]),
            ["i64"] = new HostTensor<long>(new Shape(2, 1), [long.MinValue, long.MaxValue]),
            ["f32"] = new HostTensor<float>(new Shape(3, 1, 2), [float.NegativeInfinity, -0f, float.Epsilon, 1e30f, float.NaN, 3.25f]),
            ["f64"] = new HostTensor<double>(new Shape(5), [.. Enumerable.Range(0, 5).Select(_ => random.NextDouble() - 0.5)]),
            ["scalar"] = new HostTensor<float>(new Shape(), [2.5f]),
            ["step"] = new HostTensor<long>(new Shape(), [123456789012]),
            ["empty"] = new HostTensor<float>(new Shape(0)),
            ["empty3d"] = new HostTensor<int>(new Shape(3, 0, 2)),
            ["big"] = new HostTensor<float>(new Shape(7, 5, 3), [.. Enumerable.Range(0, 105).Select(_ => (float)random.NextDouble())]),
            ["odd"] = new HostTensor<byte>(new Shape(5), [9, 8, 7, 6, 5]),
        };
        var metadata = new Dictionary<string, string> { ["step"] = "17", ["settings"] = """{"lr": 0.1}""", ["unicode"] = "Grüße, 東京 🙂" };
        using var dir = new TempDirectory();
        string path = dir["all.safetensors"];

        SafeTensors.Save(path, tensors, metadata);
        var read = SafeTensors.Read(path);

        Assert.Equal(metadata, read.Metadata);
        Assert.Equal(tensors.Keys.Order(), read.Tensors.Keys.Order());
        foreach (var (name, expected) in tensors)
        {
            var actual = read.Tensors[name];
            Assert.Equal(expected.DType, actual.DType);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(expected.Bytes.ToArray(), actual.Bytes.ToArray());
        }
        Assert.Equal(((HostTensor<long>)tensors["step"]).Data, ((HostTensor<long>)read.Tensors["step"]).Data);
        Assert.Equal(new Shape(), read.Tensors["scalar"].Shape);
        Assert.IsType<HostTensor<double>>(read.Tensors["f64"]);
    }

    [Fact]
    public void ReadHeaderListsTensorsInFileOrderWithoutTheData()
    {
        using var dir = new TempDirectory();
        string path = dir["h.safetensors"];
        SafeTensors.Save(path, new Dictionary<string, HostTensor>
        {
            ["a"] = new HostTensor<float>(new Shape(2, 2)),
            ["n"] = new HostTensor<long>(new Shape()),
        }, new Dictionary<string, string> { ["k"] = "v" });

        var header = SafeTensors.ReadHeader(path);

        Assert.Equal(
            [new SafeTensorInfo("n", SafeTensorsDType.I64, new Shape(), 0, 8), new SafeTensorInfo("a", SafeTensorsDType.F32, new Shape(2, 2), 8, 24)],
            header.Tensors);
        Assert.Equal("v", header.Metadata["k"]);
        Assert.Equal(new FileInfo(path).Length - 24, header.DataStart);
        Assert.Equal(0, header.DataStart % 8);
    }

    // --- what a Python reader requires ------------------------------------------------------------------------------

    [Fact]
    public void WrittenFilesFollowTheReferenceReadersRules()
    {
        // No safetensors module on this machine: the file is checked against the rules the reference reader enforces,
        // with the header parsed by System.Text.Json rather than by the code under test.
        var random = new Random(99);
        float[] weights = [.. Enumerable.Range(0, 5 * 5 * 3 * 8).Select(_ => (float)random.NextDouble())];
        var tensors = new Dictionary<string, HostTensor>
        {
            ["conv1/weight"] = new HostTensor<float>(new Shape(5, 5, 3, 8), weights),
            ["conv1/bias"] = new HostTensor<float>(new Shape(8)),
            ["labels"] = new HostTensor<byte>(new Shape(3), [1, 2, 3]),
            ["counts"] = new HostTensor<int>(new Shape(3), [4, 5, 6]),
            ["global_step"] = new HostTensor<long>(new Shape(), [42]),
            ["moments"] = new HostTensor<double>(new Shape(2), [0.5, -0.25]),
        };
        byte[] file = Serialize(tensors, new() { ["format"] = "pt", ["step"] = "42" });

        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.True(n % 8 == 0, $"header length {n} is not a multiple of 8");
        string header = Encoding.UTF8.GetString(file, 8, (int)n);
        Assert.StartsWith("{", header);
        Assert.EndsWith("}", header.TrimEnd(' '));
        using var json = JsonDocument.Parse(header);
        long dataStart = 8 + n;

        var itemSizes = new Dictionary<string, int> { ["U8"] = 1, ["I32"] = 4, ["I64"] = 8, ["F32"] = 4, ["F64"] = 8 };
        var ranges = new List<(long Begin, long End)>();
        foreach (var entry in json.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                Assert.All(entry.Value.EnumerateObject(), m => Assert.Equal(JsonValueKind.String, m.Value.ValueKind));
                continue;
            }
            Assert.Equal(["dtype", "shape", "data_offsets"], entry.Value.EnumerateObject().Select(p => p.Name));
            int itemSize = itemSizes[entry.Value.GetProperty("dtype").GetString()!];
            long count = entry.Value.GetProperty("shape").EnumerateArray().Aggregate(1L, (c, d) => c * d.GetInt64());
            long begin = entry.Value.GetProperty("data_offsets")[0].GetInt64(), end = entry.Value.GetProperty("data_offsets")[1].GetInt64();
            Assert.Equal(count * itemSize, end - begin);
            Assert.True((dataStart + begin) % itemSize == 0, $"{entry.Name} starts at file offset {dataStart + begin}, not aligned to {itemSize}");
            Assert.Equal(tensors[entry.Name].Bytes.ToArray(), file.AsSpan((int)(dataStart + begin), (int)(end - begin)).ToArray());
            ranges.Add((begin, end));
        }
        Assert.Equal(tensors.Count, ranges.Count);
        ranges.Sort();
        long expected = 0;
        foreach (var (begin, end) in ranges)
        {
            Assert.Equal(expected, begin);
            expected = end;
        }
        Assert.Equal(file.Length - dataStart, expected);

        // And the first weight is the float a NumPy reader would see at that offset.
        var conv = json.RootElement.GetProperty("conv1/weight").GetProperty("data_offsets")[0].GetInt64();
        Assert.Equal(weights[0], BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan((int)(dataStart + conv))));
    }

    [Fact]
    public void ReadsFilesWrittenByOtherWritersInAnyOrderWithUnknownFields()
    {
        // Unpadded header, tensors listed out of offset order, pretty-printed, an extra field: all valid safetensors.
        string json = """
            {
              "b": {"dtype": "I32", "shape": [1], "data_offsets": [4, 8], "comment": {"x": [1, 2]}},
              "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}
            }
            """;
        var read = SafeTensors.Read(new MemoryStream(FileOf(Encoding.UTF8.GetBytes(json), F32(2.5f), I32(-3))), "other.safetensors");
        Assert.Equal([2.5f], ((HostTensor<float>)read.Tensors["a"]).Data);
        Assert.Equal([-3], ((HostTensor<int>)read.Tensors["b"]).Data);
        Assert.Empty(read.Metadata);
    }

    // --- damage -----------------------------------------------------------------------------------------------------

    [Fact]
    public void AFileCutAtAnyOffsetIsRejectedWithItsName()
    {
        byte[] file = Serialize(new()
        {
            ["w"] = new HostTensor<float>(new Shape(2, 3), [1, 2, 3, 4, 5, 6]),
            ["n"] = new HostTensor<long>(new Shape(), [5]),
        }, new() { ["k"] = "v" });
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);

        for (int cut = 0; cut < file.Length; cut++)
        {
            var e = ReadFails(file[..cut], "runs/a/checkpoint.safetensors");
            Assert.StartsWith("runs/a/checkpoint.safetensors: not a valid safetensors file: ", e.Message);
            string expected = cut < 8 ? $"the file is {cut} bytes long"
                : cut < 8 + n ? $"the header length at offset 0 is {n} bytes, but only {cut - 8} bytes follow it"
                : "run past the end of the data";
            Assert.Contains(expected, e.Message);
        }
    }

    public static readonly TheoryData<string> Corruptions =
    [
        "header length too large", "header length beyond the file", "unfinished JSON", "not an object", "text after the object",
        "zero padding", "not UTF-8", "unknown dtype", "unsupported dtype", "overlap", "gap", "out of range", "end before begin",
        "size mismatch", "bytes after the last tensor", "negative dimension", "fractional offset", "missing field", "three offsets",
        "duplicate tensor", "duplicate field", "metadata not a string", "entry not an object", "metadata not an object",
        "lone surrogate in a name", "lone surrogate in metadata",
    ];

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void DamagedFilesGetAnErrorSayingWhereAndWhat(string corruption)
    {
        const string Entry = """{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""";
        (byte[] File, string[] Fragments) damaged = corruption switch
        {
            "header length too large" => ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, (byte)'{', (byte)'}'], ["at offset 0", "18446744073709551615", "100000000"]),
            "header length beyond the file" => ([.. new byte[] { 0xE8, 0x03, 0, 0, 0, 0, 0, 0 }, .. "{}      "u8.ToArray()], ["at offset 0 is 1000 bytes, but only 8 bytes follow it"]),
            "unfinished JSON" => (FileOf(Padded("""{"a":{"dtype":"F32","""), F32(1, 2)), ["not valid JSON"]),
            "not an object" => (FileOf(Padded("[1, 2]")), ["the header at offset 8 is a JSON array; expected an object"]),
            "text after the object" => (FileOf("{}xx    "u8.ToArray()), ["not valid JSON at offset 10"]),
            "zero padding" => (FileOf([(byte)'{', (byte)'}', 0, 0, 0, 0, 0, 0]), ["not valid JSON at offset 10"]),
            "not UTF-8" => (FileOf([.. "{\"a"u8.ToArray(), 0xFF, .. "\":1}"u8.ToArray()]), ["offset 11 that is not UTF-8"]),
            "unknown dtype" => (FileOf(Padded("""{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}"""), F32(1, 2)), ["tensor \"a\": dtype \"Q7\" at offset 22", "expected one of U8, I32, I64, F32, F64"]),
            "unsupported dtype" => (FileOf(Padded("""{"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}}"""), F32(1, 2)), ["dtype \"BF16\"", "not one GpuDeconv reads"]),
            "overlap" => (FileOf(Padded("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"""), F32(1, 2, 3)),
                ["tensor \"b\": data_offsets [4, 12] overlap those of tensor \"a\" [0, 8]"]),
            "gap" => (FileOf(Padded("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"""), F32(1, 2, 3)),
                ["tensor \"b\": data_offsets [8, 12] begin at 8, but the data before it ends at 4; tensors must be contiguous"]),
            "out of range" => (FileOf(Padded("{\"a\":" + Entry + "}"), F32(1)), ["tensor \"a\": data_offsets [0, 8] run past the end of the data, which holds 4 bytes"]),
            "end before begin" => (FileOf(Padded("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"""), F32(1, 2)), ["tensor \"a\": data_offsets [8, 4] end before they begin"]),
            "size mismatch" => (FileOf(Padded("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"""), F32(1, 2)), ["tensor \"a\": F32 [3] needs 12 bytes, but its data_offsets [0, 8] span 8"]),
            "bytes after the last tensor" => (FileOf(Padded("{\"a\":" + Entry + "}"), F32(1, 2), [7, 7]), ["the file has 2 more bytes", "belong to no tensor"]),
            "negative dimension" => (FileOf(Padded("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"""), F32(1, 2)), ["tensor \"a\": shape[0] at offset 37 is number -2; expected a non-negative integer"]),
            "fractional offset" => (FileOf(Padded("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.5]}}"""), F32(1, 2)), ["data_offsets[1]", "is number 8.5"]),
            "missing field" => (FileOf(Padded("""{"a":{"dtype":"F32","shape":[2]}}"""), F32(1, 2)), ["tensor \"a\" at offset 13 has no \"data_offsets\""]),
            "three offsets" => (FileOf(Padded("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}"""), F32(1, 2)), ["holds 3 numbers; expected two"]),
            "duplicate tensor" => (FileOf(Padded("{\"a\":" + Entry + ",\"a\":" + Entry + "}"), F32(1, 2)), ["\"a\" appears twice in the header"]),
            "duplicate field" => (FileOf(Padded("""{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}"""), F32(1, 2)), ["tensor \"a\": \"dtype\" appears twice"]),
            "metadata not a string" => (FileOf(Padded("""{"__metadata__":{"step":12}}""")), ["metadata \"step\" at offset 32 is a JSON number 12; safetensors metadata values must be strings"]),
            "entry not an object" => (FileOf(Padded("""{"a":5}""")), ["tensor \"a\" at offset 13 is a JSON number 5"]),
            "metadata not an object" => (FileOf(Padded("""{"__metadata__":[]}""")), ["\"__metadata__\" at offset 24 is a JSON array"]),
            // Found by SafeTensorsMutationTests: JSON allows the escape, UTF-16 has no such character.
            "lone surrogate in a name" => (FileOf(Padded("{\"a\\ud800\":" + Entry + "}"), F32(1, 2)), ["a string at offset 9", "not valid UTF-16", "lone surrogate"]),
            "lone surrogate in metadata" => (FileOf(Padded("""{"__metadata__":{"k":"\udc00"}}""")), ["a string at offset 29", "not valid UTF-16"]),
            _ => throw new ArgumentException(corruption),
        };

        var e = ReadFails(damaged.File, "data/bad.safetensors");

        Assert.StartsWith("data/bad.safetensors: not a valid safetensors file: ", e.Message);
        foreach (string fragment in damaged.Fragments)
            Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void ReadingAMissingFileNamesIt()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => SafeTensors.Read(dir["nothing.safetensors"]));
        Assert.Contains("nothing.safetensors", e.Message);
    }

    [Fact]
    public void ATensorMayNotTakeTheMetadataName()
    {
        var e = Assert.Throws<ArgumentException>(() => Serialize(new() { ["__metadata__"] = new HostTensor<float>(new Shape(1)) }));
        Assert.Contains("no tensor may be named \"__metadata__\"", e.Message);
    }

    [Fact]
    public void AFailedSaveLeavesThePreviousFile()
    {
        using var dir = new TempDirectory();
        string path = dir["w.safetensors"];
        SafeTensors.Save(path, new Dictionary<string, HostTensor> { ["a"] = new HostTensor<int>(new Shape(1), [11]) });

        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path, new Dictionary<string, HostTensor> { ["b"] = null! }));

        Assert.Equal([11], ((HostTensor<int>)SafeTensors.Read(path).Tensors["a"]).Data);
        Assert.Equal(["w.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }
}
