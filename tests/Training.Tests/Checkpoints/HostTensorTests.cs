using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class HostTensorTests
{
    [Fact]
    public void ElementTypeFollowsTheArrayType()
    {
        Assert.Equal(SafeTensorsDType.U8, new HostTensor<byte>(new Shape(2), new byte[2]).DType);
        Assert.Equal(SafeTensorsDType.I32, new HostTensor<int>(new Shape(2)).DType);
        Assert.Equal(SafeTensorsDType.I64, new HostTensor<long>(new Shape()).DType);
        Assert.Equal(SafeTensorsDType.F32, new HostTensor<float>(new Shape(0, 3)).DType);
        Assert.Equal(SafeTensorsDType.F64, new HostTensor<double>(new Shape(1)).DType);
    }

    [Fact]
    public void WrapsTheArrayWithoutCopying()
    {
        var data = new float[] { 1, 2, 3, 4, 5, 6 };
        var tensor = new HostTensor<float>(new Shape(2, 3), data);
        data[4] = 42;
        Assert.Same(data, tensor.Data);
        Assert.Equal(42, tensor.Data[4]);
        Assert.Equal("F32 [2, 3]", tensor.ToString());
    }

    [Fact]
    public void DataOfTheWrongLengthIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new HostTensor<float>(new Shape(2, 3), new float[5]));
        Assert.Contains("data holds 5 elements but shape [2, 3] needs 6", e.Message);
        Assert.Equal("data", e.ParamName);
    }

    [Fact]
    public void UnsupportedElementTypesAreRejected()
    {
        var e = Assert.Throws<NotSupportedException>(() => new HostTensor<short>(new Shape(1), new short[1]));
        Assert.Contains("Int16", e.Message);
    }

    [Theory]
    [InlineData(SafeTensorsDType.U8, 1)]
    [InlineData(SafeTensorsDType.I32, 4)]
    [InlineData(SafeTensorsDType.I64, 8)]
    [InlineData(SafeTensorsDType.F32, 4)]
    [InlineData(SafeTensorsDType.F64, 8)]
    public void ZerosHasTheTypeShapeAndSize(SafeTensorsDType dtype, int itemSize)
    {
        var tensor = HostTensor.Zeros(dtype, new Shape(3, 2));
        Assert.Equal(dtype, tensor.DType);
        Assert.Equal(new Shape(3, 2), tensor.Shape);
        Assert.Equal(itemSize, HostTensor.ItemSize(dtype));
        Assert.Equal(6 * itemSize, tensor.Bytes.Length);
        Assert.All(tensor.Bytes.ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void ZerosRejectsShapesTooLargeForAnArray()
    {
        var e = Assert.Throws<ArgumentException>(() => HostTensor.Zeros(SafeTensorsDType.U8, new Shape(65536, 65536)));
        Assert.Contains("[65536, 65536]", e.Message);
    }
}
