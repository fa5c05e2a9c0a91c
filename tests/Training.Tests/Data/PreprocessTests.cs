using Xunit;

namespace GpuDeconv.Training.Tests;

public class PreprocessTests
{
    [Fact]
    public void BuiltInStepsDeclareTheirShapes()
    {
        Assert.Equal(new Layers.Shape(32, 32, 3), Preprocess.CifarEval.Input);
        Assert.Equal(new Layers.Shape(24, 24, 3), Preprocess.CifarTrain.Output);
        Assert.Equal(new Layers.Shape(28, 28, 1), Preprocess.LeNet.Input);
        Assert.Equal(new Layers.Shape(32, 32, 1), Preprocess.LeNet.Output);
    }

    [Fact]
    public void RawAndScaleConvertBytes()
    {
        byte[] image = [0, 51, 255];
        var output = new float[3];

        Preprocess.Raw(new Layers.Shape(1, 3, 1)).Apply(image, output, 0);
        Assert.Equal([0f, 51f, 255f], output);

        Preprocess.Scale(new Layers.Shape(1, 3, 1)).Apply(image, output, 0);
        Assert.Equal([0f, 0.2f, 1f], output);
    }

    [Fact]
    public void StandardizedIsPerImageStandardization()
    {
        // mean 127.5, population stddev 127.5: the values become -1 and 1.
        var output = new float[4];
        Preprocess.Standardized(new Layers.Shape(2, 2, 1)).Apply([0, 255, 0, 255], output, 0);
        Assert.Equal([-1f, 1f, -1f, 1f], output);
        // A uniform image has stddev 0; the 1/sqrt(N) floor keeps it finite: all zeros.
        Preprocess.Standardized(new Layers.Shape(2, 2, 1)).Apply([7, 7, 7, 7], output, 0);
        Assert.Equal([0f, 0f, 0f, 0f], output);
        // The CIFAR network standardises non-CIFAR images (28x28 Fashion-MNIST) the same way.
        var (train, test) = TrainerModels.Get("cifar-gap").Inputs(new Layers.Shape(28, 28, 1), distort: false);
        Assert.Equal("standardized", train.Name);
        Assert.Equal("standardized", test.Name);
    }

    [Fact]
    public void CifarTrainDependsOnTheExampleSeed()
    {
        var image = Enumerable.Range(0, 3072).Select(i => (byte)(i * 29 % 256)).ToArray();
        var a = new float[1728];
        var b = new float[1728];
        var c = new float[1728];

        Preprocess.CifarTrain.Apply(image, a, 5);
        Preprocess.CifarTrain.Apply(image, b, 5);
        Preprocess.CifarTrain.Apply(image, c, 6);

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void ShapesMustBeHeightWidthChannels()
    {
        var e = Assert.Throws<ArgumentException>(() => new Preprocess("odd", new Layers.Shape(28, 28), new Layers.Shape(28, 28, 1), (_, _, _) => { }));
        Assert.Contains("Preprocess odd: input shape [28, 28] must be [H, W, C]", e.Message);
    }
}
