using GpuDeconv.Compute.Conformance;
using GpuDeconv.Kernels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

// Tensor creation, reading, views, copies between accelerators, disposal and scopes.
public sealed class TensorApiTests
{
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void FromArrayRoundTripsFloatIntAndLongData(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var f = Tensor.FromArray(acc, [1.5f, -2f, 3f, float.NaN, 0f, -0f], [2, 3]);
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal(6, f.Size);
        Check.Equal<float>([1.5f, -2f, 3f, float.NaN, 0f, -0f], f.ToArray(), "float round trip (bits)");
        Assert.Equal(f.ToArray(), f.ToArray<float>());

        var i = Tensor.FromArray(acc, [3, -1, int.MaxValue], [3]);
        Assert.Equal(DType.Int32, i.DType);
        Assert.Equal([3, -1, int.MaxValue], i.ToArray<int>());
        Assert.Equal([3L, -1L, int.MaxValue], i.ToArray<long>());

        var l = Tensor.FromArray(acc, [5L, -7L, 1L << 40], [1, 3]);
        Assert.Equal(DType.Int64, l.DType);
        Assert.Equal([5L, -7L, 1L << 40], l.ToArray<long>());
        var overflow = Assert.Throws<InvalidOperationException>(() => l.ToArray<int>());
        Assert.Contains("1099511627776", overflow.Message);

        var intAsFloat = Assert.Throws<InvalidOperationException>(() => i.ToArray());
        Assert.Contains("ToArray<long>()", intAsFloat.Message);
        Assert.Throws<InvalidOperationException>(() => f.ToArray<int>());
        Assert.Throws<InvalidOperationException>(() => f.ToArray<double>());

        var empty = Tensor.FromArray(acc, Array.Empty<float>(), [0, 3]);
        Assert.Empty(empty.ToArray());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void FromArrayRejectsDataThatDoesNotFillTheShape(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var error = Assert.Throws<ArgumentException>(() => Tensor.FromArray(acc, new float[5], [2, 3]));
        Assert.Equal("data", error.ParamName);
        Assert.Contains("Tensor.FromArray", error.Message);
        Assert.Contains("5 values", error.Message);
        Assert.Contains("[2, 3]", error.Message);
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(acc, new int[2], [3]));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(acc, new long[4], [3]));
        Assert.Throws<ArgumentNullException>(() => Tensor.FromArray(acc, (float[])null!, [3]));
        Assert.Throws<ArgumentException>(() => new Shape(2, -1));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ZerosOnesAndFillWriteEveryElement(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        Assert.All(Tensor.Zeros(acc, [3, 5, 7]).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(Tensor.Ones(acc, [1027]).ToArray(), v => Assert.Equal(1f, v));
        var filled = Tensor.Fill(acc, [2, 2], -3.25f, requiresGrad: true);
        Assert.Equal([-3.25f, -3.25f, -3.25f, -3.25f], filled.ToArray());
        Assert.True(filled.RequiresGrad);
        Assert.False(filled.HasGradFunction);
        var scalar = Tensor.Fill(acc, [], 2f);
        Assert.Equal(1, scalar.Size);
        Assert.Equal([2f], scalar.ToArray());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SeededRandomTensorsAreRepeatableAndInRange(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        float[] normal = Tensor.TruncatedNormal(acc, [40, 50], stddev: 0.5f, seed: 42, mean: 1f).ToArray();
        Assert.Equal(normal, Tensor.TruncatedNormal(acc, [40, 50], stddev: 0.5f, seed: 42, mean: 1f).ToArray());
        Assert.NotEqual(normal, Tensor.TruncatedNormal(acc, [40, 50], stddev: 0.5f, seed: 43, mean: 1f).ToArray());
        Assert.All(normal, v => Assert.InRange(v, 0f, 2f));   // mean +- 2 stddev
        Assert.InRange(normal.Average(), 0.95, 1.05);
        float[] uniform = Tensor.Uniform(acc, [2000], -3f, 5f, seed: 7).ToArray();
        Assert.Equal(uniform, Tensor.Uniform(acc, [2000], -3f, 5f, seed: 7).ToArray());
        Assert.All(uniform, v => Assert.True(v >= -3f && v < 5f, $"{v} outside [-3, 5)"));
        Assert.InRange(uniform.Average(), 0.8, 1.2);
        Assert.True(Tensor.Uniform(acc, [3], 0f, 1f, seed: 1, requiresGrad: true).RequiresGrad);
    }

    [Fact]
    public void SeededRandomTensorsAreBitIdenticalOnCpuAndOpenCL()
    {
        var cpu = TestAccelerators.Cpu;
        var opencl = TestAccelerators.Get("opencl");
        using var scope = new TensorScope();
        Check.Equal<float>(Tensor.TruncatedNormal(cpu, [33, 31], 0.1f, seed: 2024).ToArray(),
            Tensor.TruncatedNormal(opencl, [33, 31], 0.1f, seed: 2024).ToArray(), "TruncatedNormal cpu vs opencl");
        Check.Equal<float>(Tensor.Uniform(cpu, [1001], -1f, 1f, seed: 9).ToArray(),
            Tensor.Uniform(opencl, [1001], -1f, 1f, seed: 9).ToArray(), "Uniform cpu vs opencl");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ShapePrintsAsTensorFlowDoes(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var t = Tensor.Zeros(acc, [128, 24, 24, 3]);
        Assert.Equal("[128, 24, 24, 3]", t.Shape.ToString());
        Assert.Equal([128, 24, 24, 3], t.Shape.Dims);
        Assert.Equal(4, t.Shape.Rank);
        Assert.Equal(128L * 24 * 24 * 3, t.Size);
        Assert.StartsWith("Tensor[128, 24, 24, 3] Float32 on ", t.ToString());
        t.Name = "images";
        Assert.Contains("'images'", t.ToString());
        Assert.Equal("[]", Tensor.Zeros(acc, []).Shape.ToString());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ReshapeSharesMemoryWithItsSource(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var x = Tensor.FromArray(acc, [1f, 2f, 3f, 4f, 5f, 6f], [2, 3]);
        var view = x.Reshape([3, 2, 1]);
        Assert.Equal(new Shape(3, 2, 1), view.Shape);
        Assert.Equal(x.ToArray(), view.ToArray());
        Fill.Forward(view.Stream, view.View, 9f);                      // a write through the view ...
        Assert.All(x.ToArray(), v => Assert.Equal(9f, v));            // ... is a write to the source
        var again = Functional.Reshape(view, [6]);
        // The source's memory lives on while a reshape of it does.
        x.Dispose();
        Assert.Equal(6, again.ToArray().Length);
        // Integer tensors reshape too (argmax switches).
        var switches = Tensor.FromArray(acc, [1L, 2L, 3L, 4L], [1, 2, 2, 1]).Reshape([4]);
        Assert.Equal([1L, 2L, 3L, 4L], switches.ToArray<long>());
        var error = Assert.Throws<ArgumentException>(() => again.Reshape([4, 2]));
        Assert.Contains("Reshape", error.Message);
        Assert.Contains("[6]", error.Message);
        Assert.Contains("[4, 2]", error.Message);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void CloneIsAnIndependentCopyThatGradientsFlowThrough(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var a = Tensor.FromArray(acc, [1f, 2f, 3f], [3], requiresGrad: true);
        var copy = a.Clone();
        Assert.Equal(a.ToArray(), copy.ToArray());
        Fill.Forward(copy.Stream, copy.View, 0f);
        Assert.Equal([1f, 2f, 3f], a.ToArray());
        Functional.ReduceSum(Functional.Scale(a.Clone(), 2f)).Backward();
        Assert.Equal([2f, 2f, 2f], a.Grad!.ToArray());
        var sameDevice = a.To(acc);
        Fill.Forward(sameDevice.Stream, sameDevice.View, 0f);
        Assert.Equal([1f, 2f, 3f], a.ToArray());
        Assert.Equal([7L, 8L], Tensor.FromArray(acc, [7L, 8L], [2]).Clone().ToArray<long>());
    }

    [Fact]
    public void ToMovesTensorsBetweenCpuAndOpenCLAndGradientsFlowBack()
    {
        var cpu = TestAccelerators.Cpu;
        var opencl = TestAccelerators.Get("opencl");
        using var scope = new TensorScope();
        var w = Tensor.FromArray(cpu, [1f, -2f, 3f], [3], requiresGrad: true);
        var onDevice = w.To(opencl);
        Assert.Same(opencl, onDevice.Accelerator);
        Assert.Equal(w.ToArray(), onDevice.ToArray());
        // loss on OpenCL; the gradient comes home to the CPU parameter.
        var back = Functional.Multiply(onDevice, onDevice).To(cpu);
        Functional.ReduceSum(back).Backward();
        Assert.Same(cpu, w.Grad!.Accelerator);
        Assert.Equal([2f, -4f, 6f], w.Grad.ToArray());
        var labels = Tensor.FromArray(cpu, [1, 2, 3], [3]).To(opencl);
        Assert.Equal(DType.Int32, labels.DType);
        Assert.Equal([1, 2, 3], labels.ToArray<int>());
        Assert.Equal([4L, 5L], Tensor.FromArray(opencl, [4L, 5L], [2]).To(cpu).ToArray<long>());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void DisposingTwiceIsSafeAndUseAfterDisposeNamesTheTensor(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var w = Tensor.Ones(acc, [5, 5, 3, 64]);
        w.Name = "conv1/weight";
        w.Dispose();
        w.Dispose();
        Assert.True(w.IsDisposed);
        var read = Assert.Throws<ObjectDisposedException>(() => w.ToArray());
        Assert.Contains("conv1/weight", read.Message);
        Assert.Contains("[5, 5, 3, 64]", read.Message);
        var op = Assert.Throws<ObjectDisposedException>(() => Functional.Relu(w));
        Assert.Contains("conv1/weight", op.Message);
        Assert.Throws<ObjectDisposedException>(() => w.Reshape([75, 64]));
        Assert.Throws<ObjectDisposedException>(() => w.To(acc));
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ScopesDisposeTheirTensorsExceptKeptOnes(string name)
    {
        var acc = TestAccelerators.Get(name);
        Tensor kept, inner, outerTemp, keptToOuter;
        using (var outer = new TensorScope())
        {
            outerTemp = Tensor.Zeros(acc, [2]);
            using (var nested = new TensorScope())
            {
                inner = Tensor.Zeros(acc, [2]);
                keptToOuter = nested.Keep(Tensor.Ones(acc, [2]));
            }
            Assert.True(inner.IsDisposed);
            Assert.False(keptToOuter.IsDisposed);   // Keep hands it to the enclosing scope ...
            Assert.False(outerTemp.IsDisposed);
            kept = outer.Keep(Tensor.Ones(acc, [3]));
        }
        Assert.True(keptToOuter.IsDisposed);        // ... which disposes it when it ends
        Assert.True(outerTemp.IsDisposed);
        Assert.False(kept.IsDisposed);               // kept by the outermost scope: the caller owns it
        Assert.Equal([1f, 1f, 1f], kept.ToArray());
        kept.Dispose();

        var first = new TensorScope();
        var second = new TensorScope();
        var error = Assert.Throws<InvalidOperationException>(() => first.Dispose());
        Assert.Contains("reverse order", error.Message);
        second.Dispose();
        first.Dispose();
    }
}
