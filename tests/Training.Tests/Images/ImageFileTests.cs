using GpuDeconv.Layers;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class ImageFileTests
{
    [Fact]
    public void DecodesPngWebpAndBmpExactlyAndJpegClosely()
    {
        using var temp = new TempDirectory();
        var image = ImageFiles.Blocks(12, 20);
        File.WriteAllBytes(temp["a.png"], image.EncodePng());
        File.WriteAllBytes(temp["a.webp"], ImageFiles.WebpLossless(image));
        File.WriteAllBytes(temp["a.bmp"], ImageFiles.Bmp(image));
        File.WriteAllBytes(temp["a.jpg"], ImageFiles.Jpeg(image, quality: 100));

        foreach (string name in new[] { "a.png", "a.webp", "a.bmp" })
        {
            ByteImage decoded = ImageFile.Decode(temp[name]);
            Assert.Equal((12, 20, 3), (decoded.Height, decoded.Width, decoded.Channels));
            Assert.Equal(image.Pixels, decoded.Pixels);
        }
        ByteImage jpeg = ImageFile.Decode(temp["a.jpg"]);
        Assert.Equal((12, 20, 3), (jpeg.Height, jpeg.Width, jpeg.Channels));
        int worst = image.Pixels.Zip(jpeg.Pixels, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 8, $"JPEG at quality 100 without chroma subsampling differs by up to {worst}");
    }

    [Fact]
    public void GrayIsCopiedToEveryChannelAndAlphaIsDroppedKeepingTheColours()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["gray.png"], new ByteImage([0, 80, 160, 255], 2, 2, 1).EncodePng());
        File.WriteAllBytes(temp["rgba.png"], new ByteImage([200, 100, 50, 0, 10, 20, 30, 255], 1, 2, 4).EncodePng());

        Assert.Equal([0, 0, 0, 80, 80, 80, 160, 160, 160, 255, 255, 255], ImageFile.Decode(temp["gray.png"]).Pixels);
        Assert.Equal([200, 100, 50, 10, 20, 30], ImageFile.Decode(temp["rgba.png"]).Pixels);
    }

    [Fact]
    public void PathStreamAndBytesDecodeAlike()
    {
        using var temp = new TempDirectory();
        byte[] png = ImageFiles.Blocks(5, 7).EncodePng();
        File.WriteAllBytes(temp["a.png"], png);
        using var stream = new MemoryStream(png);

        byte[] fromPath = ImageFile.Decode(temp["a.png"]).Pixels;

        Assert.Equal(fromPath, ImageFile.Decode(stream, "a.png").Pixels);
        Assert.Equal(fromPath, ImageFile.Decode(png, "a.png").Pixels);
        Assert.Equal(fromPath, ImageFile.Decode(new NonSeekable(png), "a.png").Pixels);
        Assert.Equal(fromPath, ImageFile.Load(png, "a.png").Image.Pixels);
        Assert.Equal(fromPath, ImageFile.Load(new MemoryStream(png), "a.png").Image.Pixels);
    }

    [Theory]
    [InlineData(1, 16, 32)]
    [InlineData(3, 16, 32)]
    [InlineData(6, 32, 16)]
    [InlineData(8, 32, 16)]
    public void JpegExifOrientationIsApplied(int orientation, int height, int width)
    {
        using var temp = new TempDirectory();
        // Stored 16x32: the left half red, the right half blue.
        var pixels = new byte[16 * 32 * 3];
        for (int p = 0; p < 16 * 32; p++)
        {
            bool left = p % 32 < 16;
            pixels[3 * p] = (byte)(left ? 230 : 20);
            pixels[3 * p + 2] = (byte)(left ? 20 : 230);
        }
        File.WriteAllBytes(temp["photo.jpg"], ImageFiles.WithExifOrientation(ImageFiles.Jpeg(new ByteImage(pixels, 16, 32, 3)), orientation));

        ByteImage decoded = ImageFile.Decode(temp["photo.jpg"]);

        Assert.Equal((height, width), (decoded.Height, decoded.Width));
        bool Red(int y, int x) => decoded.Pixels[(y * width + x) * 3] > 128 && decoded.Pixels[(y * width + x) * 3 + 2] < 128;
        // 1 as stored; 3 turned half way (red on the right); 6 turned a quarter clockwise (the stored left edge on top);
        // 8 a quarter counter-clockwise (the stored left edge at the bottom).
        var (first, second) = orientation switch
        {
            1 => (Red(8, 4), !Red(8, 28)),
            3 => (!Red(8, 4), Red(8, 28)),
            6 => (Red(4, 8), !Red(28, 8)),
            _ => (!Red(4, 8), Red(28, 8)),
        };
        Assert.True(first && second, $"orientation {orientation}: the red half is not where it belongs");
    }

    [Fact]
    public void LoadResizesCropsAndPreprocessesToAnNhwcInput()
    {
        using var temp = new TempDirectory();
        var image = ImageFiles.Blocks(30, 45, block: 5);
        File.WriteAllBytes(temp["photo.png"], image.EncodePng());
        var options = new ImageFileOptions { ResizeShorterSide = 20, CenterCrop = (16, 16) };

        LoadedImage raw = ImageFile.Load(temp["photo.png"], options);

        Assert.Equal(("PNG", 30, 45), (raw.Format, raw.FileHeight, raw.FileWidth));
        ByteImage expected = image.ResizeShorterSide(20).CenterCrop(16, 16);
        Assert.Equal(expected.Pixels, raw.Image.Pixels);
        Assert.Equal(new Shape(1, 16, 16, 3), raw.Input.Shape);
        Assert.Equal(expected.Pixels.Select(b => (float)b), raw.Input.Data);

        LoadedImage unit = ImageFile.Load(temp["photo.png"], options with { Input = Preprocess.Scale });
        Assert.Equal(expected.Pixels.Select(b => b / 255f), unit.Input.Data);

        // The TF tutorial's per-image standardisation: mean 0, standard deviation 1 over the whole crop.
        float[] standardized = ImageFile.Load(temp["photo.png"], options with { Input = Preprocess.Standardized }).Input.Data;
        double mean = standardized.Average(), deviation = Math.Sqrt(standardized.Average(v => (v - mean) * (v - mean)));
        Assert.True(Math.Abs(mean) < 1e-5 && Math.Abs(deviation - 1) < 1e-4, $"mean {mean}, standard deviation {deviation}");

        // A fixed-size preprocessing: CIFAR's central 24x24 of a 32x32 image.
        LoadedImage cifar = ImageFile.Load(temp["photo.png"], options with { ResizeShorterSide = 32, CenterCrop = (32, 32), Input = _ => Preprocess.CifarEval });
        Assert.Equal(new Shape(1, 24, 24, 3), cifar.Input.Shape);
    }

    [Fact]
    public void GrayInputIsPilsLuma()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["rgb.png"], new ByteImage([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30], 2, 2, 3).EncodePng());

        LoadedImage gray = ImageFile.Load(temp["rgb.png"], new ImageFileOptions { Channels = 1 });

        // L = (19595 R + 38470 G + 7471 B + 32768) >> 16, PIL's convert("L").
        Assert.Equal([76f, 150f, 29f, 18f], gray.Input.Data);
        Assert.Equal(new Shape(1, 2, 2, 1), gray.Input.Shape);
    }

    [Fact]
    public void ImagesThatDoNotFitTheOptionsNameTheFileAndTheFix()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["small.png"], ImageFiles.Blocks(10, 12).EncodePng());

        var crop = Assert.Throws<InvalidDataException>(() => ImageFile.Load(temp["small.png"], new ImageFileOptions { CenterCrop = (24, 24) }));
        Assert.Contains($"{temp["small.png"]}: the image is 10x12, smaller than the 24x24 centre crop", crop.Message);
        Assert.Contains("set ResizeShorterSide to at least 24", crop.Message);

        var shape = Assert.Throws<InvalidDataException>(() => ImageFile.Load(temp["small.png"], new ImageFileOptions { Input = _ => Preprocess.CifarEval }));
        Assert.Contains($"{temp["small.png"]}: the image is [10, 12, 3]", shape.Message);
        Assert.Contains("'cifar-eval' takes [32, 32, 3]", shape.Message);

        Assert.Throws<ArgumentException>(() => ImageFile.Load(temp["small.png"], new ImageFileOptions { ResizeShorterSide = 0 }));
        Assert.Throws<ArgumentException>(() => ImageFile.Load(temp["small.png"], new ImageFileOptions { Channels = 4 }));
        Assert.Throws<ArgumentException>(() => ImageFile.Decode(temp["small.png"], new ImageLimits { MaxPixels = 0 }));
        Assert.Throws<FileNotFoundException>(() => ImageFile.Decode(temp["missing.png"]));
    }

    [Fact]
    public void LoadFolderTakesImagesInNameOrderAndSaysWhatItSkipped()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp["photos/sub"]);
        File.WriteAllBytes(temp["photos/b.PNG"], ImageFiles.Blocks(20, 30).EncodePng());
        File.WriteAllBytes(temp["photos/a.jpg"], ImageFiles.Jpeg(ImageFiles.Blocks(40, 24)));
        File.WriteAllBytes(temp["photos/c.bmp"], ImageFiles.Bmp(ImageFiles.Blocks(16, 16)));
        File.WriteAllText(temp["photos/notes.txt"], "not an image");
        File.WriteAllBytes(temp["photos/.thumbnail.png"], [1, 2, 3]);
        File.WriteAllBytes(temp["photos/sub/d.png"], ImageFiles.Blocks(8, 8).EncodePng());

        ImageFolder folder = ImageFile.LoadFolder(temp["photos"], new ImageFileOptions { ResizeShorterSide = 16, CenterCrop = (16, 16) });

        Assert.Equal(["a.jpg", "b.PNG", "c.bmp"], folder.Images.Select(i => Path.GetFileName(i.Name)));
        Assert.Equal(["JPEG", "PNG", "BMP"], folder.Images.Select(i => i.Format));
        Assert.Equal([".thumbnail.png", "notes.txt"], folder.Skipped.Select(s => Path.GetFileName(s.Path)));
        Assert.Equal("a hidden file", folder.Skipped[0].Reason);
        Assert.StartsWith("not an image file name (.txt)", folder.Skipped[1].Reason);
        HostArray batch = folder.Batch();
        Assert.Equal(new Shape(3, 16, 16, 3), batch.Shape);
        Assert.Equal(folder.Images[1].Input.Data, batch.Data.AsSpan(16 * 16 * 3, 16 * 16 * 3).ToArray());

        var uneven = ImageFile.LoadFolder(temp["photos"]);
        var error = Assert.Throws<InvalidOperationException>(() => uneven.Batch());
        Assert.Contains("set ImageFileOptions.CenterCrop", error.Message);
        Assert.Throws<DirectoryNotFoundException>(() => ImageFile.LoadFolder(temp["nowhere"]));
    }

    [Fact]
    public void AFolderWithoutImagesHasNoBatch()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp["readme.md"], "#");

        var error = Assert.Throws<InvalidOperationException>(() => ImageFile.LoadFolder(temp.Path).Batch());

        Assert.Contains("no image files in", error.Message);
        Assert.Contains("readme.md: not an image file name (.md)", error.Message);
    }

    /// <summary>A stream that hides its length, as a network stream does.</summary>
    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }
}
