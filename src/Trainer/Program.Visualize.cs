using System.CommandLine;
using System.Globalization;
using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using GpuDeconv.Training;

namespace GpuDeconv.Trainer;

public static partial class Program
{
    private static readonly Dictionary<string, DeconvnetVariant> Variants = new(StringComparer.Ordinal)
    {
        ["tutorial"] = DeconvnetVariant.Tutorial,
        ["zeiler-fergus"] = DeconvnetVariant.ZeilerFergus,
        ["guided"] = DeconvnetVariant.GuidedBackprop,
        // Saliency is the Gradient projection reduced to max |p| over channels (Simonyan et al.).
        ["saliency"] = DeconvnetVariant.Gradient,
    };

    private static Command VisualizeCommand(TextWriter output, TextWriter error)
    {
        var checkpoint = new Option<string?>("--checkpoint") { Description = "A cifar-gap checkpoint file, or a run's log directory (its latest checkpoint)." };
        var images = new Option<string>("--images") { Description = "Comma-separated test image indices.", DefaultValueFactory = _ => "0,1,2" };
        var variant = new Option<string>("--variant") { Description = "tutorial, zeiler-fergus, guided or saliency.", DefaultValueFactory = _ => "tutorial" }
            .AcceptOnlyFromAmong([.. Variants.Keys]);
        var logdir = new Option<string?>("--logdir") { Description = "Where the TensorBoard events and PNG files go (default: the checkpoint's run directory)." };
        var dataset = DatasetOption();
        var dataDir = DataDirOption();
        var accelerator = AcceleratorOption();
        var command = new Command("visualize",
            "Deconv reconstructions of test images from a checkpoint, to TensorBoard and PNG files; with --image, your own images through a checkpoint or an ONNX model.")
        {
            checkpoint, images, variant, logdir, dataset, dataDir, accelerator,
        };
        var imageOptions = ImageVisualizationOptions();
        AddImageOptions(command, imageOptions);
        command.SetAction(parse =>
        {
            if (parse.GetValue(imageOptions.Images) is { Length: > 0 })
                return VisualizeImages(parse, imageOptions, parse.GetValue(checkpoint), parse.GetValue(logdir), parse.GetValue(dataset)!,
                    parse.GetValue(dataDir)!, parse.GetValue(accelerator)!, output, error);
            if (parse.GetValue(checkpoint) is null)
            {
                error.WriteLine("error: visualize needs --checkpoint (test images of the checkpoint's data set), or --image with --checkpoint or --onnx (your own images).");
                return UsageError;
            }
            if (!TryParseIndices(parse.GetValue(images)!, out var indices))
            {
                error.WriteLine($"error: --images must be comma-separated non-negative integers such as 0,1,2, not '{parse.GetValue(images)}'.");
                return UsageError;
            }
            if (!TryFindCheckpoint(parse.GetValue(checkpoint)!, error, out string file)) return MissingInput;
            var saved = Checkpoint.Load(file);
            var kind = CheckpointModel(saved);
            if (kind.Name != TrainerModels.DefaultName)
            {
                error.WriteLine($"error: {file} holds {kind.CheckpointName}; visualize projects the deconv tutorial's network, so give a {TrainerModels.DefaultName} checkpoint.");
                return UsageError;
            }
            if (!TryLoadData(CheckpointDataset(saved, parse.GetValue(dataset)!), parse.GetValue(dataDir)!, kind, output, error, out var data)) return MissingInput;
            if (indices.FirstOrDefault(i => i >= data.Test.Count, -1) is var outside and >= 0)
            {
                error.WriteLine($"error: --images {outside} is out of range: {data.Name} has {data.Test.Count} test images (0..{data.Test.Count - 1}).");
                return UsageError;
            }
            if (!TryCreateAccelerator(parse.GetValue(accelerator)!, output, error, out var acc)) return MissingInput;
            using (acc)
            {
                var input = kind.Inputs(data.Test.ImageShape, distort: false).Test;
                using var model = (CifarGapNet?)LoadModel(saved, file, kind, input, data, acc, error);
                if (model is null) return UsageError;
                string run = parse.GetValue(logdir) ?? RunDirectory(file);
                string name = parse.GetValue(variant)!;
                var written = Visualize(model, acc, input, data.Test, indices, name, run, saved.Step, parse.GetValue(imageOptions.Scale));
                output.WriteLine($"{name} reconstructions of test images {string.Join(",", indices)} from {file} (step {saved.Step}): " +
                                 $"[input | layer-1 | layer-2] per image, tag visualize/{name} in {run}");
                foreach (string png in written) output.WriteLine(png);
                return 0;
            }
        });
        return command;
    }

    /// <summary>
    /// For each image, [input | layer-1 | layer-2 projection] along the width (the tutorial's source/cifar layout), scaled as
    /// tf.summary.image does and enlarged for viewing, logged under visualize/&lt;variant&gt;/image/&lt;index&gt; and saved as a PNG; returns the PNG paths.
    /// </summary>
    private static List<string> Visualize(CifarGapNet model, Accelerator acc, Preprocess input, Dataset test, IReadOnlyList<int> indices, string variant, string run, long step, int scale)
    {
        var shape = input.Output;
        int size = (int)shape.Size;
        var pixels = new float[indices.Count * size];
        for (int i = 0; i < indices.Count; i++) input.Apply(test.ImageSpan(indices[i]), pixels.AsSpan(i * size, size), 0);

        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var images = Tensor.FromArray(acc, pixels, new Shape(indices.Count, shape[0], shape[1], shape[2]));
        var trace = new ForwardTrace();
        model.Logits(images, trace);
        var panels = new List<Tensor> { images };
        for (int layer = 0; layer < 2; layer++)
        {
            var projection = Deconvnet.Project(trace, layer, Variants[variant]);
            // Saliency maps are one channel; repeated to the input's channels so they stitch next to it (gray in an RGB image).
            panels.Add(variant == "saliency" ? RepeatChannels(Deconvnet.Saliency(projection), shape[2]) : projection);
        }
        var stitched = Deconvnet.Stitch(panels);
        int height = stitched.Shape[1], width = stitched.Shape[2], channels = stitched.Shape[3];
        float[] all = stitched.ToArray();
        int per = height * width * channels;

        Directory.CreateDirectory(run);
        var written = new List<string>();
        using var writer = new SummaryWriter(run);
        for (int i = 0; i < indices.Count; i++)
        {
            // Enlarged by whole pixels (--scale; 0: the trainer's panel rule, shorter side at least 200 px).
            var image = ByteImage.FromFloats(all.AsSpan(i * per, per), height, width, channels, ImageLayout.Hwc)
                .Upscale(scale > 0 ? scale : TrainingSummaries.AutoScale(height, width));
            writer.AddImage($"visualize/{variant}/image/{indices[i]}", image, step);
            string png = Path.Combine(run, string.Create(CultureInfo.InvariantCulture, $"visualize-{variant}-image-{indices[i]}-step-{step}.png"));
            image.SavePng(png);
            written.Add(png);
        }
        writer.Flush();
        return written;
    }

    /// <summary>[N, H, W, 1] to [N, H, W, channels], on the host (a few small images).</summary>
    private static Tensor RepeatChannels(Tensor gray, int channels)
    {
        float[] source = gray.ToArray();
        var repeated = new float[source.Length * channels];
        for (int p = 0; p < source.Length; p++) repeated.AsSpan(p * channels, channels).Fill(source[p]);
        return Tensor.FromArray(gray.Accelerator, repeated, new Shape(gray.Shape[0], gray.Shape[1], gray.Shape[2], channels));
    }

    /// <summary>The run directory a checkpoint belongs to: &lt;run&gt;/checkpoints/checkpoint-N.safetensors gives &lt;run&gt;.</summary>
    private static string RunDirectory(string checkpointFile)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(checkpointFile))!;
        return Path.GetFileName(folder) == "checkpoints" ? Path.GetDirectoryName(folder)! : folder;
    }

    private static bool TryParseIndices(string text, out List<int> indices)
    {
        indices = [];
        foreach (string part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int index)) return false;
            indices.Add(index);
        }
        return indices.Count > 0;
    }
}
