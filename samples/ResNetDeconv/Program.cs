// See inside a pretrained ImageNet ResNet-18 on your own photos:
//   dotnet run -c Release --project samples/ResNetDeconv -- data/photos/chelsea.png [more photos] [--out DIR] [--cpu]
// For each photo: the ONNX network (CNTK's ResNet-18 and its preprocessing: RGB to BGR, minus a mean image) runs with a
// ForwardTrace, and guided backprop projects the three maps of the last residual stage that the photo excites most back
// to pixels; the photo and its projections go to a labelled contact sheet.
using GpuDeconv.Layers;
using GpuDeconv.Training;

string models = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");
var photos = new List<string>();
string output = Path.Combine("runs", "resnet-deconv");
bool cpu = false;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--cpu") cpu = true;
    else if (args[i] == "--out" && i + 1 < args.Length) output = args[++i];
    else if (args[i].StartsWith("--", StringComparison.Ordinal)) return Usage($"unknown option {args[i]}");
    else photos.Add(args[i]);
}
if (photos.Count == 0) return Usage("no photos given");

using var accelerator = Accelerators.Create(cpu ? "cpu" : "auto");
using var preprocess = OnnxModel.Load(accelerator, Path.Combine(models, "ResNetPrepOnnx", "ResNetPreprocess.onnx"));
using var resnet = OnnxModel.Load(accelerator, Path.Combine(models, "ResNet18Onnx", "ResNet18.onnx"));
var lastStage = resnet.Layers[^2];                                 // the last block's first convolution and ReLU: [1, 7, 7, 512]
Console.WriteLine($"{resnet.Producer} ResNet-18 on {accelerator}: {resnet.Layers.Count} layers; projecting layer {lastStage.Index} ({lastStage.Node})");
Directory.CreateDirectory(output);
foreach (string photo in photos)
{
    // Shorter side to 224, centre crop: RGB floats 0..255, as the preprocessing model expects.
    var image = ImageFile.Load(photo, new ImageFileOptions { ResizeShorterSide = 224, CenterCrop = (224, 224) });
    using var scope = new TensorScope();
    using var noGrad = Autograd.NoGrad();
    var input = preprocess.Forward(Tensor.FromArray(accelerator, image.Input.Data, image.Input.Shape));
    var trace = new ForwardTrace();
    var features = resnet.Forward(input, trace);                   // [1, 1, 1, 512]: the pooled ImageNet features
    var maps = FeatureProjections.Project(trace, [lastStage.Index], topK: 3, ProjectionMode.GuidedBackprop,
        layerName: layer => resnet.Layers[layer].Node, bgr: true); // the network reads BGR: shown as RGB
    var tiles = new List<(ByteImage, string[])> { (image.Image, [Path.GetFileName(photo)]) };
    tiles.AddRange(maps.Select(m => (m.Image, new[] { $"map {m.Map}", $"max {m.Activation:g3}" })));
    string sheet = Path.Combine(output, Path.GetFileName(photo) is var name && photos.Count(p => Path.GetFileNameWithoutExtension(p) == Path.GetFileNameWithoutExtension(photo)) > 1
        ? name + ".png" : Path.GetFileNameWithoutExtension(photo) + ".png");
    ContactSheet.Draw(tiles, columns: 4).SavePng(sheet);
    Console.WriteLine($"{photo}: strongest maps {string.Join(", ", maps.Select(m => m.Map))}; feature norm {Math.Sqrt(features.ToArray().Sum(v => (double)v * v)):F2}; {sheet}");
}
return 0;

static int Usage(string problem)
{
    Console.Error.WriteLine($"error: {problem}. usage: ResNetDeconv PHOTO... [--out DIR] [--cpu]  (PNG, JPEG, WebP or BMP files)");
    return 1;
}
