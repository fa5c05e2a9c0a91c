using Xunit;

namespace GpuDeconv.Training.Tests;

public class MnistTests
{
    private static byte Pixel(int image, int p) => (byte)(image * 13 + p);

    private static void WriteSplit(TempDirectory temp, string prefix, int images, byte[] labels, bool gzipImages, int size = 28)
    {
        var imageData = DataFiles.IdxImages(images, size, 28, Pixel);
        File.WriteAllBytes(temp[$"{prefix}-images-idx3-ubyte" + (gzipImages ? ".gz" : "")], gzipImages ? DataFiles.Gzip(imageData) : imageData);
        File.WriteAllBytes(temp[$"{prefix}-labels-idx1-ubyte"], DataFiles.IdxLabels(labels));
    }

    [Fact]
    public void LoadsPlainAndGzipFiles()
    {
        using var temp = new TempDirectory();
        WriteSplit(temp, "train", 3, [5, 0, 4], gzipImages: true);
        WriteSplit(temp, "t10k", 2, [7, 2], gzipImages: false);

        var train = Mnist.Load(temp.Path, DatasetSplit.Train);
        var test = Mnist.Load(temp.Path, DatasetSplit.Test);

        Assert.Equal(new Layers.Shape(28, 28, 1), train.ImageShape);
        Assert.Equal([5, 0, 4], train.Labels.ToArray());
        Assert.Equal([7, 2], test.Labels.ToArray());
        Assert.Equal(Pixel(2, 783), train.ImageSpan(2)[783]);
        Assert.Equal(Mnist.ClassNames, train.ClassNames);
        Assert.Equal("MNIST test", test.Name);
    }

    [Fact]
    public void MissingFilesNameBothNamesAndTheDirectory()
    {
        using var temp = new TempDirectory();

        var e = Assert.Throws<FileNotFoundException>(() => Mnist.Load(temp.Path, DatasetSplit.Test));

        Assert.Contains($"neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz is in {temp.Path}", e.Message);
    }

    [Fact]
    public void ImagesMustBe28By28()
    {
        using var temp = new TempDirectory();
        WriteSplit(temp, "train", 2, [1, 1], gzipImages: false, size: 27);

        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(temp.Path, DatasetSplit.Train));

        Assert.Contains("train-images-idx3-ubyte: images are 27x28 (dimensions at offsets 8 and 12), expected 28x28", e.Message);
    }

    [Fact]
    public void ImageAndLabelCountsMustAgree()
    {
        using var temp = new TempDirectory();
        WriteSplit(temp, "train", 3, [1, 1], gzipImages: true);

        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(temp.Path, DatasetSplit.Train));

        Assert.Contains($"{temp["train-labels-idx1-ubyte"]}: holds 2 labels, but {temp["train-images-idx3-ubyte.gz"]} holds 3 images", e.Message);
    }

    [Fact]
    public void LabelOutOfRangeNamesItsOffset()
    {
        using var temp = new TempDirectory();
        WriteSplit(temp, "train", 3, [1, 9, 10], gzipImages: false);

        var e = Assert.Throws<InvalidDataException>(() => Mnist.Load(temp.Path, DatasetSplit.Train));

        Assert.Contains($"{temp["train-labels-idx1-ubyte"]}: label 2 at offset 10 is 10, expected 0..9", e.Message);
    }
}
