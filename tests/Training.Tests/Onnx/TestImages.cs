using Xunit;

namespace GpuDeconv.Training.Tests.Onnx;

/// <summary>
/// Real photographs from Debian's python3-skimage, which tools/setup.sh puts under data/photos
/// (GPUDECONV_SETUP_ALL=1, as CI sets, or GPUDECONV_SETUP_PHOTOS=1).
/// </summary>
internal static class TestImages
{
    /// <summary>data/photos of the repository the tests were built from.</summary>
    public static string PhotoFolder
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "GpuDeconv.sln")))
                    return Path.Combine(dir.FullName, Environment.GetEnvironmentVariable("GPUDECONV_DATA_DIR") ?? "data", "photos");
            return Path.Combine(AppContext.BaseDirectory, "data", "photos");
        }
    }

    /// <summary>The path of a photo; skips the test (fails it in CI, where setup must have put it there) when it is missing.</summary>
    public static string Photo(string name)
    {
        string path = Path.Combine(PhotoFolder, name);
        if (File.Exists(path)) return path;
        string reason = $"{path} is missing; run GPUDECONV_SETUP_PHOTOS=1 bash tools/setup.sh";
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(reason);
        Assert.Skip(reason);
        return path;
    }

    /// <summary>The cat photo (chelsea.png, 451 x 300), shorter side resized to 224 and centre-cropped to 224 x 224: NHWC RGB in 0..255.</summary>
    public static float[] Photo224()
    {
        var image = ImageFile.Load(Photo("chelsea.png"), new ImageFileOptions { ResizeShorterSide = 224, CenterCrop = (224, 224) });
        Assert.Equal(new GpuDeconv.Layers.Shape(1, 224, 224, 3), image.Input.Shape);
        return image.Input.Data;
    }
}
