using GpuDeconv.Training;
using GpuDeconv.Training.Tests;
using GpuDeconv.Training.Tests.Onnx;
using Xunit;

namespace GpuDeconv.Trainer.Tests;

/// <summary><c>visualize --image</c>: a real photo through the pretrained ResNet-18, and a written image through a checkpoint.</summary>
public sealed class VisualizeImagesTests(CifarRun run) : IClassFixture<CifarRun>
{
    private static readonly string Models = Path.Combine(AppContext.BaseDirectory, "DnnImageModels");

    [Fact]
    public void APhotoThroughResNet18WritesItsProjectionsContactSheetAndTensorBoardImages()
    {
        string photo = TestImages.Photo("chelsea.png");
        using var temp = new TempDirectory();
        var result = ProgramTests.Run("visualize", "--image", photo,
            "--onnx", Path.Combine(Models, "ResNet18Onnx", "ResNet18.onnx"), "--preprocess", Path.Combine(Models, "ResNetPrepOnnx", "ResNetPreprocess.onnx"),
            "--bgr", "--mode", "guided", "--layers", "4,Convolution387", "--top-k", "1", "--maps", "21:239", "--scale", "2",
            "--accelerator", "cpu", "--logdir", temp.Path);
        Assert.True(result.ExitCode == 0, $"visualize exited {result.ExitCode}: {result.Error}\n{result.Output}");
        Assert.Contains("[3/3] layer 21 (Convolution387) map 239", result.Output);

        string folder = Path.Combine(temp.Path, "chelsea");
        var pngs = Directory.GetFiles(folder, "*.png").Select(p => Path.GetFileName(p)).Order().ToArray();
        Assert.Equal(5, pngs.Length);   // input, layer 4's and layer 21's strongest maps, map 21:239 (the second strongest there), the contact sheet
        Assert.Contains("layer21-map239.png", pngs);
        foreach (string png in pngs)
        {
            var image = ImageFile.Decode(Path.Combine(folder, png));
            if (png == "contact-sheet.png")
            {
                Assert.True(image.Width > 4 * 224 && image.Height > 224, $"contact sheet is {image.Width}x{image.Height}");
                continue;
            }
            Assert.Equal((448, 448, 3), (image.Height, image.Width, image.Channels));
            // A projection that reached the pixels is not one flat colour.
            Assert.True(image.Pixels.Distinct().Count() > 16, $"{png} has {image.Pixels.Distinct().Count()} distinct byte values");
        }
        var tags = Directory.GetFiles(temp.Path, "events.out.tfevents.*")
            .SelectMany(file => EventFileReader.Read(file).Events)
            .SelectMany(e => e.Summary?.Value.Select(v => v.Tag) ?? []).ToHashSet();
        Assert.Contains("chelsea/contact_sheet", tags);
        Assert.Contains("chelsea/layer21/map239", tags);
    }

    [Fact]
    public void AnImageThroughACheckpointIsPreparedToTheModelsInput()
    {
        using var temp = new TempDirectory();
        var random = new Random(3);
        var pixels = new byte[30 * 41 * 3];
        random.NextBytes(pixels);
        string file = Path.Combine(temp.Path, "noise.png");
        new ByteImage(pixels, 30, 41, 3).SavePng(file);
        var result = ProgramTests.Run("visualize", "--image", temp.Path, "--checkpoint", run["run"], "--data-dir", run["data"],
            "--mode", "saliency", "--top-k", "2", "--accelerator", "cpu", "--logdir", temp["out"]);
        Assert.True(result.ExitCode == 0, $"visualize exited {result.ExitCode}: {result.Error}\n{result.Output}");
        var sheet = ImageFile.Decode(Path.Combine(temp["out"], "noise", "contact-sheet.png"));
        Assert.True(sheet.Width > 100);
        // 28x28 MNIST input, centre-cropped to 24x24 by the network's preprocessing; enlarged to at least 224.
        var input = ImageFile.Decode(Path.Combine(temp["out"], "noise", "input.png"));
        Assert.Equal(input.Width, input.Height);
        Assert.True(input.Width >= 224);
    }

    [Fact]
    public void BadArgumentsEndInOneLine()
    {
        using var temp = new TempDirectory();
        var missing = ProgramTests.Run("visualize", "--image", Path.Combine(temp.Path, "nothing.png"), "--onnx", "x.onnx");
        Assert.Equal(Program.MissingInput, missing.ExitCode);
        Assert.Contains("nothing.png does not exist", missing.Error);
        Assert.Single(missing.Error.Trim().Split('\n'));

        File.WriteAllText(temp["cat.png"], "");
        var both = ProgramTests.Run("visualize", "--image", temp["cat.png"], "--onnx", "x.onnx", "--checkpoint", "y");
        Assert.Equal(Program.UsageError, both.ExitCode);
        Assert.Contains("exactly one network", both.Error);

        File.WriteAllBytes(temp["model.onnx"], [1, 2, 3, 4, 5]);
        var damaged = ProgramTests.Run("visualize", "--image", temp["cat.png"], "--onnx", temp["model.onnx"], "--accelerator", "cpu");
        Assert.Equal(Program.MissingInput, damaged.ExitCode);
        Assert.Contains("model.onnx", damaged.Error);
        Assert.Single(damaged.Error.Trim().Split('\n'));
    }
}

/// <summary>samples/ResNetDeconv run as its users run it, on a real photo.</summary>
public sealed class ResNetDeconvSampleTests
{
    [Fact]
    public void TheSampleWritesAContactSheetOfThePhotosStrongestMaps()
    {
        string photo = TestImages.Photo("coffee.png");
        using var temp = new TempDirectory();
        var (exitCode, output) = GpuDeconv.Testing.Samples.Run("ResNetDeconv", photo, "--out", temp.Path, "--cpu");
        Assert.Equal(0, exitCode);
        Assert.Contains("strongest maps", output);
        var sheet = ImageFile.Decode(Path.Combine(temp.Path, "coffee.png"));
        Assert.True(sheet.Width > 4 * 224, $"contact sheet is {sheet.Width}x{sheet.Height}");
    }
}
