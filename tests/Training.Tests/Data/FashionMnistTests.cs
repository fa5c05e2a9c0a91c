using Xunit;

namespace GpuDeconv.Training.Tests;

public class FashionMnistTests
{
    [Fact]
    public void LoadsAGivenFolderWithFashionClassNames()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["t10k-images-idx3-ubyte.gz"], DataFiles.Gzip(DataFiles.IdxImages(1, 28, 28, (_, p) => (byte)p)));
        File.WriteAllBytes(temp["t10k-labels-idx1-ubyte.gz"], DataFiles.Gzip(DataFiles.IdxLabels(9)));

        var data = FashionMnist.Load(DatasetSplit.Test, temp.Path);

        Assert.Equal("Ankle boot", data.ClassNames[data.Label(0)]);
        Assert.Equal("Fashion-MNIST test", data.Name);
    }

    [Fact]
    public void MissingFilesSayHowToInstallThem()
    {
        using var temp = new TempDirectory();

        var e = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(DatasetSplit.Train, temp.Path));

        Assert.Contains("apt-get install dataset-fashion-mnist", e.Message);
        Assert.Contains(temp.Path, e.Message);
    }

    [Theory]
    [InlineData(DatasetSplit.Train, 60_000, new[] { 9, 0, 0, 3 }, 76247)]
    [InlineData(DatasetSplit.Test, 10_000, new[] { 9, 2, 1, 1 }, 33456)]
    public void LoadsTheDebianPackageFiles(DatasetSplit split, int count, int[] firstLabels, int firstImageSum)
    {
        var (images, labels) = Mnist.FileNames(split);
        if (!File.Exists(Path.Combine(FashionMnist.DefaultDirectory, images + ".gz")) || !File.Exists(Path.Combine(FashionMnist.DefaultDirectory, labels + ".gz")))
            Assert.Skip($"Fashion-MNIST is not installed in {FashionMnist.DefaultDirectory} (apt-get install dataset-fashion-mnist).");

        var data = FashionMnist.Load(split);

        Assert.Equal(count, data.Count);
        Assert.Equal(firstLabels, data.Labels[..4].ToArray());
        // The set is balanced: every class has a tenth of the images.
        var perClass = new int[10];
        foreach (int label in data.Labels) perClass[label]++;
        Assert.All(perClass, n => Assert.Equal(count / 10, n));
        int sum = 0;
        foreach (byte b in data.ImageSpan(0)) sum += b;
        Assert.Equal(firstImageSum, sum);
        Assert.True(data.Pixels.Contains((byte)255), "no pixel is 255: the bytes were scaled or misread");
    }
}
