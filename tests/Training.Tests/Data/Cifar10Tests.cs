using Xunit;

namespace GpuDeconv.Training.Tests;

public class Cifar10Tests
{
    private const string Meta = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";

    [Fact]
    public void RecordsBecomeHwcImages()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["subset.bin"], DataFiles.CifarRecords(3, r => 9 - r));

        var data = Cifar10.ReadBatchFile(temp["subset.bin"]);

        Assert.Equal(3, data.Count);
        Assert.Equal(new Layers.Shape(32, 32, 3), data.ImageShape);
        Assert.Equal([9, 8, 7], data.Labels.ToArray());
        for (int r = 0; r < 3; r++)
        {
            var image = data.ImageSpan(r);
            foreach (var (y, x) in new[] { (0, 0), (0, 31), (5, 17), (31, 0), (31, 31) })
                for (int c = 0; c < 3; c++)
                    Assert.Equal(DataFiles.CifarPixel(r, c, y, x), image[(y * 32 + x) * 3 + c]);
        }
    }

    [Fact]
    public void LoadsTheTestSplitWithItsClassNames()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["test_batch.bin"], DataFiles.CifarPlanes(10_000, r => r % 10));
        File.WriteAllText(temp["batches.meta.txt"], Meta.Replace("cat", "kitten"));

        var data = Cifar10.Load(temp.Path, DatasetSplit.Test);

        Assert.Equal(10_000, data.Count);
        Assert.Equal(7, data.Label(9_997));
        Assert.Equal(DataFiles.PlaneValue(9_999, 2), data.ImageSpan(9_999)[(31 * 32 + 30) * 3 + 2]);
        Assert.Equal(DataFiles.PlaneValue(9_999, 1), data.ImageSpan(9_999)[1]);
        Assert.Equal("kitten", data.ClassNames[3]);
        Assert.Equal(10, data.ClassNames.Count);
    }

    [Fact]
    public void LoadsTheTrainingFilesInOrderFromTheArchiveFolder()
    {
        using var temp = new TempDirectory();
        string folder = Directory.CreateDirectory(temp["cifar-10-batches-bin"]).FullName;
        var records = DataFiles.CifarPlanes(10_000, r => r % 10);
        for (int f = 1; f <= 5; f++)
        {
            records[0] = (byte)f;  // the first label tells the files apart
            File.WriteAllBytes(Path.Combine(folder, $"data_batch_{f}.bin"), records);
        }

        var data = Cifar10.Load(temp.Path, DatasetSplit.Train);

        Assert.Equal(50_000, data.Count);
        Assert.Equal([1, 2, 3, 4, 5], Enumerable.Range(0, 5).Select(f => data.Label(f * 10_000)));
        Assert.Equal(Cifar10.ClassNames, data.ClassNames);  // no batches.meta.txt: the standard names
        Assert.Equal(DataFiles.PlaneValue(1, 1), data.ImageSpan(40_001)[(2 * 32 + 3) * 3 + 1]);
    }

    [Fact]
    public void MissingFilesSayWhereToPutThemAndHowToGetThem()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["data_batch_1.bin"], []);

        var e = Assert.Throws<FileNotFoundException>(() => Cifar10.Load(temp.Path, DatasetSplit.Train));

        Assert.Contains("data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin not found in " + temp.Path, e.Message);
        Assert.Contains("cifar-10-binary.tar.gz", e.Message);
        Assert.Contains("https://www.cs.toronto.edu/~kriz/cifar.html", e.Message);
        Assert.Contains("test_batch.bin and batches.meta.txt in " + temp.Path, e.Message);
    }

    [Fact]
    public void SizeThatIsNotWholeRecordsIsAnError()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["test_batch.bin"], new byte[2 * 3073 + 5]);

        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(temp.Path, DatasetSplit.Test));

        Assert.Contains(temp["test_batch.bin"], e.Message);
        Assert.Contains("6151 bytes is not a whole number of 3073-byte records (2 records and 5 bytes left over)", e.Message);
    }

    [Fact]
    public void OfficialFilesMustHoldTenThousandRecords()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["test_batch.bin"], DataFiles.CifarRecords(3, _ => 0));

        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(temp.Path, DatasetSplit.Test));

        Assert.Contains(temp["test_batch.bin"] + ": holds 3 records (9219 bytes), expected 10000 records of 3073 bytes (30730000 bytes)", e.Message);
    }

    [Fact]
    public void LabelOutOfRangeNamesTheRecordAndItsOffset()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["subset.bin"], DataFiles.CifarRecords(4, r => r == 2 ? 10 : 1));

        var e = Assert.Throws<InvalidDataException>(() => Cifar10.ReadBatchFile(temp["subset.bin"]));

        Assert.Contains(temp["subset.bin"] + ": record 2 at byte offset 6146 has label 10, expected 0..9", e.Message);
    }

    [Fact]
    public void EmptyFileIsAnError()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["subset.bin"], []);

        var e = Assert.Throws<InvalidDataException>(() => Cifar10.ReadBatchFile(temp["subset.bin"]));

        Assert.Contains("the file is empty", e.Message);
    }

    [Fact]
    public void ClassNamesFileMustHoldTenNames()
    {
        using var temp = new TempDirectory();
        File.WriteAllBytes(temp["test_batch.bin"], DataFiles.CifarRecords(1, _ => 0));
        File.WriteAllText(temp["batches.meta.txt"], "airplane\nautomobile\n");

        var e = Assert.Throws<InvalidDataException>(() => Cifar10.Load(temp.Path, DatasetSplit.Test));

        Assert.Contains(temp["batches.meta.txt"] + ": holds 2 class names, expected 10", e.Message);
    }

    [Fact]
    public void FindDirectoryLooksInTheFolderAndItsArchiveFolder()
    {
        using var temp = new TempDirectory();
        Assert.Null(Cifar10.FindDirectory(temp.Path));
        string nested = Directory.CreateDirectory(temp["cifar-10-batches-bin"]).FullName;
        foreach (string name in Cifar10.FileNames(DatasetSplit.Train).Concat(Cifar10.FileNames(DatasetSplit.Test)))
            File.WriteAllBytes(Path.Combine(nested, name), []);

        Assert.Equal(nested, Cifar10.FindDirectory(temp.Path));
    }
}
