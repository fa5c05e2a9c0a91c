using System.CommandLine;
using System.Globalization;
using GpuDeconv.Compute;
using GpuDeconv.Layers;
using GpuDeconv.Training;

namespace GpuDeconv.Trainer;

// `gpudeconv visualize --image FILE...`: the user's own images through a checkpoint or an ONNX model; per image the
// top-k maps of each chosen layer (and named maps) projected back to pixels, as PNG files, a labelled contact sheet,
// and TensorBoard images.
public static partial class Program
{
    private static readonly Dictionary<string, ProjectionMode> Modes = new(StringComparer.Ordinal)
    {
        ["deconvnet"] = ProjectionMode.Deconvnet,
        ["guided"] = ProjectionMode.GuidedBackprop,
        ["saliency"] = ProjectionMode.Saliency,
    };

    // ImageNet's per-channel mean and standard deviation on 0..1 RGB (torchvision's models).
    private static readonly float[] ImageNetMean = [0.485f, 0.456f, 0.406f], ImageNetStd = [0.229f, 0.224f, 0.225f];

    private sealed record ImageOptions(
        Option<string[]> Images, Option<string?> Onnx, Option<string?> Preprocess, Option<string> Normalize, Option<bool> Bgr,
        Option<string?> Layers, Option<int> TopK, Option<string?> Maps, Option<string> Mode, Option<int> Scale);

    private static ImageOptions ImageVisualizationOptions() => new(
        new Option<string[]>("--image") { Description = "Image files (PNG, JPEG, WebP, BMP) or folders of them to look inside the network with; switches visualize to your own images.", AllowMultipleArgumentsPerToken = true },
        new Option<string?>("--onnx") { Description = "With --image: an ONNX model (NCHW float input) instead of a checkpoint." },
        new Option<string?>("--preprocess") { Description = "With --onnx: an ONNX model that prepares the RGB 0..255 image first (e.g. ResNetPreprocess.onnx)." },
        new Option<string>("--normalize") { Description = "With --onnx and no --preprocess: none (RGB 0..255) or imagenet ((x/255 - mean) / std, torchvision's).", DefaultValueFactory = _ => "none" }
            .AcceptOnlyFromAmong("none", "imagenet"),
        new Option<bool>("--bgr") { Description = "The network's input channels are blue, green, red (Caffe/CNTK models): show projections in RGB." },
        new Option<string?>("--layers") { Description = "Comma-separated layer indices (or ONNX convolution names); default: the last layer of each spatial size." },
        new Option<int>("--top-k") { Description = "Project the k feature maps of each layer that the image excites most.", DefaultValueFactory = _ => 4 },
        new Option<string?>("--maps") { Description = "Also these maps, as layer:map pairs separated by commas (e.g. 4:12,21:300)." },
        new Option<string>("--mode") { Description = "With --image: deconvnet (Zeiler & Fergus), guided (guided backprop) or saliency (gradient).", DefaultValueFactory = _ => "deconvnet" }
            .AcceptOnlyFromAmong([.. Modes.Keys]),
        new Option<int>("--scale") { Validators = { r => { if (r.GetValueOrDefault<int>() is < 0 or > TrainerOptions.MaxImageScale) r.AddError($"--scale must be 0 (automatic) to {TrainerOptions.MaxImageScale}, not {r.GetValueOrDefault<int>()}."); } }, Description = "Enlarge the PNG files and TensorBoard images this many times (nearest neighbour); 0: automatic (with --image: shorter side at least 224 pixels; test images: the trainer's panel rule).", DefaultValueFactory = _ => 0 });

    private static void AddImageOptions(Command command, ImageOptions o)
    {
        command.Add(o.Images);
        command.Add(o.Onnx);
        command.Add(o.Preprocess);
        command.Add(o.Normalize);
        command.Add(o.Bgr);
        command.Add(o.Layers);
        command.Add(o.TopK);
        command.Add(o.Maps);
        command.Add(o.Mode);
        command.Add(o.Scale);
    }

    /// <summary>A network to look inside: a traced forward pass of one prepared image, its layer names, how images are prepared.</summary>
    private sealed record Inspected(Func<Tensor, ForwardTrace, Tensor> Forward, Func<int, string> LayerName, Func<string, int?> LayerByName,
        ImageFileOptions Prepare, Func<Tensor, Tensor> AfterLoad, IDisposable Owner);

    private static int VisualizeImages(ParseResult parse, ImageOptions o, string? checkpointPath, string? logdir, string dataset, string dataDir,
        string acceleratorKind, TextWriter output, TextWriter error)
    {
        string? onnx = parse.GetValue(o.Onnx);
        if ((onnx is null) == (checkpointPath is null))
        {
            error.WriteLine("error: visualize --image needs exactly one network: --checkpoint (a cifar-gap checkpoint or run directory) or --onnx (an ONNX model).");
            return UsageError;
        }
        int topK = parse.GetValue(o.TopK), scale = parse.GetValue(o.Scale);
        if (topK < 0 || scale < 0)
        {
            error.WriteLine($"error: --top-k ({topK}) and --scale ({scale}) must be >= 0.");
            return UsageError;
        }
        if (!TryParseMaps(parse.GetValue(o.Maps), out var named))
        {
            error.WriteLine($"error: --maps must be layer:map pairs such as 4:12,21:300, not '{parse.GetValue(o.Maps)}'.");
            return UsageError;
        }
        var files = ImageFiles(parse.GetValue(o.Images) ?? [], error);
        if (files is null) return MissingInput;
        if (!TryCreateAccelerator(acceleratorKind, output, error, out var acc)) return MissingInput;
        using (acc)
        {
            var network = onnx is not null
                ? OnnxNetwork(acc, onnx, parse.GetValue(o.Preprocess), parse.GetValue(o.Normalize)!, output)
                : CheckpointNetwork(acc, checkpointPath!, dataset, dataDir, output, error);
            if (network is null) return MissingInput;
            using var owner = network.Owner;
            string run = logdir ?? Path.Combine("runs", $"visualize-{DateTime.Now:yyyyMMdd-HHmmss}");
            var mode = Modes[parse.GetValue(o.Mode)!];
            using var writer = new SummaryWriter(run);
            for (int f = 0; f < files.Count; f++)
            {
                var loaded = ImageFile.Load(files[f], network.Prepare);
                using var scope = new TensorScope();
                using var noGrad = Autograd.NoGrad();
                var input = network.AfterLoad(Tensor.FromArray(acc, loaded.Input.Data, loaded.Input.Shape));
                var trace = new ForwardTrace();
                network.Forward(input, trace);
                if (!TryParseLayers(parse.GetValue(o.Layers), trace, network.LayerByName, out var layers, out string problem))
                {
                    error.WriteLine($"error: --layers: {problem}");
                    return UsageError;
                }
                if (named.Select(m => m.Layer).FirstOrDefault(layer => layer >= trace.LayerCount, -1) is var outside and >= 0)
                {
                    error.WriteLine($"error: --maps names layer {outside}, but this network has {trace.LayerCount} layers (0..{trace.LayerCount - 1}, one per convolution).");
                    return UsageError;
                }
                // One folder (and TensorBoard tag prefix) per image: the file name without its extension, or with it
                // when two images share a name.
                string stem = Path.GetFileNameWithoutExtension(files[f]);
                if (files.Count(other => Path.GetFileNameWithoutExtension(other) == stem) > 1) stem = Path.GetFileName(files[f]) + $"-{f + 1}";
                int total = layers.Count * topK + named.Count, done = 0;
                output.WriteLine($"[{f + 1}/{files.Count}] {files[f]} ({loaded.FileWidth}x{loaded.FileHeight} {loaded.Format}): {mode} projections of layers {string.Join(",", layers)}, top {topK} maps each");
                var maps = FeatureProjections.Project(trace, layers, topK, mode, named, network.LayerName, parse.GetValue(o.Bgr),
                    map => output.WriteLine($"  [{++done}/{total}] layer {map.Layer} ({map.LayerName}) map {map.Map}: strongest activation {map.Activation.ToString("g4", CultureInfo.InvariantCulture)}"));
                int factor = scale > 0 ? scale : Math.Max(1, (223 + Math.Min(loaded.Image.Height, loaded.Image.Width)) / Math.Min(loaded.Image.Height, loaded.Image.Width));
                WriteImageResults(writer, Path.Combine(run, stem), stem, loaded.Image, maps, factor, output);
            }
            writer.Flush();
            output.WriteLine($"TensorBoard: tensorboard --logdir {run}");
            return 0;
        }
    }

    private static void WriteImageResults(SummaryWriter writer, string folder, string stem, ByteImage input, IReadOnlyList<ProjectedMap> maps, int scale, TextWriter output)
    {
        Directory.CreateDirectory(folder);
        input.Upscale(scale).SavePng(Path.Combine(folder, "input.png"));
        writer.AddImage($"{stem}/input", input.Upscale(scale), 0);
        foreach (var map in maps)
        {
            var big = map.Image.Upscale(scale);
            big.SavePng(Path.Combine(folder, $"layer{map.Layer}-map{map.Map}.png"));
            writer.AddImage($"{stem}/layer{map.Layer}/map{map.Map}", big, 0);
        }
        var tiles = new List<(ByteImage, string[])> { (input, [stem, "input"]) };
        tiles.AddRange(maps.Select(m => (m.Image, new[] { $"layer {m.Layer}: {Shorten(m.LayerName)}", string.Create(CultureInfo.InvariantCulture, $"map {m.Map}, max {m.Activation:g4}") })));
        int tileScale = Math.Max(1, scale / 2);
        var sheet = ContactSheet.Draw(tiles, columns: Math.Min(5, tiles.Count), tileScale);
        string sheetPath = Path.Combine(folder, "contact-sheet.png");
        sheet.SavePng(sheetPath);
        writer.AddImage($"{stem}/contact_sheet", sheet, 0);
        output.WriteLine($"  wrote {maps.Count + 2} PNG files to {folder} (contact sheet: {sheetPath})");

        static string Shorten(string name) => name.Length <= 22 ? name : name[..21] + "…";
    }

    private static Inspected? OnnxNetwork(Accelerator acc, string path, string? preprocessPath, string normalize, TextWriter output)
    {
        var model = OnnxModel.Load(acc, path);
        OnnxModel? preprocess = null;
        try
        {
            if (preprocessPath is not null) preprocess = OnnxModel.Load(acc, preprocessPath);
            var shape = model.InputShape;
            if (shape[1] == 0 || shape[2] == 0 || shape[3] != 3)
                throw new NotSupportedException($"ONNX model {path}: its input is {shape} (NHWC); visualize --image feeds RGB images of a declared size [N, H, W, 3].");
            output.WriteLine($"{path}: {model.Producer}, input {shape} (NHWC), {model.Layers.Count} convolutions; images resized and centre-cropped to {shape[1]}x{shape[2]}"
                + (preprocess is not null ? $", prepared by {preprocessPath}" : normalize == "imagenet" ? ", normalized with ImageNet's mean and std" : ", RGB 0..255"));
            // ONNX node names are optional and need not be unique: the first of a name is the one --layers can name.
            var layerIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var layer in model.Layers)
                if (layer.Node.Length > 0) layerIndex.TryAdd(layer.Node, layer.Index);
            // ImageNet normalization is a host step of the image loader; a preprocessing model runs on the accelerator.
            var prepare = new ImageFileOptions
            {
                ResizeShorterSide = Math.Min(shape[1], shape[2]),
                CenterCrop = (shape[1], shape[2]),
                Input = preprocess is null && normalize == "imagenet" ? ImageNetNormalized : Preprocess.Raw,
            };
            Func<Tensor, Tensor> afterLoad = preprocess is not null ? x => preprocess.Forward(x) : x => x;
            var owner = new Owners(model, preprocess);
            return new Inspected(model.Forward, i => model.Layers[i].Node, name => layerIndex.TryGetValue(name, out int i) ? i : null, prepare, afterLoad, owner);
        }
        catch
        {
            model.Dispose();
            preprocess?.Dispose();
            throw;
        }
    }

    // torchvision's input: (x / 255 - mean) / std per RGB channel.
    private static Preprocess ImageNetNormalized(Shape shape) => new("imagenet", shape, shape, (image, output, _) =>
    {
        for (int i = 0; i < image.Length; i++) output[i] = (image[i] / 255f - ImageNetMean[i % 3]) / ImageNetStd[i % 3];
    });

    private static Inspected? CheckpointNetwork(Accelerator acc, string checkpointPath, string dataset, string dataDir, TextWriter output, TextWriter error)
    {
        if (!TryFindCheckpoint(checkpointPath, error, out string file)) return null;
        var saved = Checkpoint.Load(file);
        var kind = CheckpointModel(saved);
        if (kind.Name != TrainerModels.DefaultName)
        {
            error.WriteLine($"error: {file} holds {kind.CheckpointName}; visualize projects the deconv tutorial's network, so give a {TrainerModels.DefaultName} checkpoint.");
            return null;
        }
        if (!TryLoadData(CheckpointDataset(saved, dataset), dataDir, kind, output, error, out var data)) return null;
        var imageShape = data.Test.ImageShape;
        var input = kind.Inputs(imageShape, distort: false).Test;
        var model = (CifarGapNet?)LoadModel(saved, file, kind, input, data, acc, error);
        if (model is null) return null;
        output.WriteLine($"{file}: {kind.CheckpointName} at step {saved.Step}, trained on {data.Name}; images become {imageShape[0]}x{imageShape[1]}x{imageShape[2]} and {input.Name} {input.Output}");
        var prepare = new ImageFileOptions
        {
            ResizeShorterSide = Math.Min(imageShape[0], imageShape[1]),
            CenterCrop = (imageShape[0], imageShape[1]),
            Channels = imageShape[2],
            Input = _ => input,
        };
        return new Inspected((x, trace) => model.Logits(x, trace), i => $"conv{i + 1}", _ => null, prepare, x => x, model);
    }

    private static List<string>? ImageFiles(string[] arguments, TextWriter error)
    {
        var files = new List<string>();
        foreach (string argument in arguments)
        {
            if (Directory.Exists(argument))
            {
                var found = ImageFile.ListFolder(argument).Images;
                if (found.Count == 0)
                {
                    error.WriteLine($"error: --image {argument} is a folder without image files ({string.Join(", ", ImageFile.Extensions)}).");
                    return null;
                }
                files.AddRange(found);
            }
            else if (File.Exists(argument)) files.Add(argument);
            else
            {
                error.WriteLine($"error: --image {argument} does not exist; give image files or folders of them.");
                return null;
            }
        }
        return files;
    }

    private static bool TryParseMaps(string? text, out List<(int Layer, int Map)> maps)
    {
        maps = [];
        if (string.IsNullOrWhiteSpace(text)) return true;
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var pair = part.Split(':');
            if (pair.Length != 2 || !int.TryParse(pair[0], NumberStyles.None, CultureInfo.InvariantCulture, out int layer)
                || !int.TryParse(pair[1], NumberStyles.None, CultureInfo.InvariantCulture, out int map)) return false;
            maps.Add((layer, map));
        }
        return true;
    }

    private static bool TryParseLayers(string? text, ForwardTrace trace, Func<string, int?> byName, out List<int> layers, out string problem)
    {
        problem = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            layers = [.. FeatureProjections.StageEnds(trace)];
            return true;
        }
        layers = [];
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            int? layer = int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int index) ? index : byName(part);
            if (layer is not int l || l >= trace.LayerCount)
            {
                problem = $"'{part}' is not a layer of this network: it has {trace.LayerCount} layers (0..{trace.LayerCount - 1}, one per convolution).";
                return false;
            }
            layers.Add(l);
        }
        return true;
    }

    private sealed class Owners(params IDisposable?[] owned) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in owned) item?.Dispose();
        }
    }
}
