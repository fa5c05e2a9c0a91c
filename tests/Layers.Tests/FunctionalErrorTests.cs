using GpuDeconv.Kernels;
using Xunit;

namespace GpuDeconv.Layers.Tests;

// Bad input: every error names the op and the shapes (or accelerators) involved, so a user can act on it.
public sealed class FunctionalErrorTests
{
    private static void AssertMentions(Exception error, params string[] parts)
    {
        foreach (string part in parts) Assert.True(error.Message.Contains(part, StringComparison.Ordinal), $"'{part}' missing from: {error.Message}");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void MismatchedShapesNameTheOpAndBothShapes(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var x = Tensor.Zeros(acc, [1, 4, 4, 2]);
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Conv2d(x, Tensor.Zeros(acc, [3, 3, 3, 8]))),
            "Conv2d", "[1, 4, 4, 2]", "[3, 3, 3, 8]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Conv2d(x, Tensor.Zeros(acc, [3, 3, 2, 8]), bias: Tensor.Zeros(acc, [4]))),
            "Conv2d", "[4]", "8");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Conv2dReluMaxPool(x, Tensor.Zeros(acc, [3, 3, 3, 8]), null, new Conv2dOptions(1, Padding.Same), new PoolOptions(2, 2, Padding.Same))),
            "Conv2d", "[1, 4, 4, 2]", "[3, 3, 3, 8]");
        // The pooling window checked against the convolution's [1, 4, 4, 8] output.
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Conv2dReluMaxPool(x, Tensor.Zeros(acc, [3, 3, 2, 8]), null, new Conv2dOptions(1, Padding.Same), new PoolOptions(6, 1, Padding.Valid))),
            "Conv2dReluMaxPool", "[1, 4, 4, 8]", "window of 6");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Add(x, Tensor.Zeros(acc, [1, 4, 4, 3]))),
            "Add", "[1, 4, 4, 2]", "[1, 4, 4, 3]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Multiply(x, Tensor.Zeros(acc, [32]))),
            "Multiply", "[1, 4, 4, 2]", "[32]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.MatMul(Tensor.Zeros(acc, [2, 3]), Tensor.Zeros(acc, [4, 5]))),
            "MatMul", "[2, 3]", "[4, 5]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.MatMul(Tensor.Zeros(acc, [2, 3]), Tensor.Zeros(acc, [2, 5]), transposeB: true)),
            "MatMul", "[2, 3]", "[2, 5]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.BiasAdd(x, Tensor.Zeros(acc, [3]))),
            "BiasAdd", "[1, 4, 4, 2]", "[3]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Concat([x, Tensor.Zeros(acc, [1, 5, 4, 2])], 3)),
            "Concat", "[1, 4, 4, 2]", "[1, 5, 4, 2]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.SoftmaxCrossEntropy(Tensor.Zeros(acc, [4, 10]), Tensor.FromArray(acc, new int[3], [3]))),
            "SoftmaxCrossEntropy", "[4, 10]", "[3]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.SoftmaxCrossEntropy(Tensor.Zeros(acc, [4, 10]), Tensor.Zeros(acc, [4, 9]))),
            "SoftmaxCrossEntropy", "[4, 10]", "[4, 9]");
        // conv2d_transpose's output-shape rule (docs/reference/op-semantics.md 7(d)): v 3x3, stride 2, SAME accepts 5 or 6, not 7.
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Conv2dTranspose(Tensor.Zeros(acc, [1, 3, 3, 1]), Tensor.Zeros(acc, [2, 2, 1, 1]), [1, 7, 7, 1], stride: 2)),
            "Conv2dTranspose", "[1, 7, 7, 1]", "[1, 3, 3, 1]");
        var (pooled, argmax) = Functional.MaxPoolWithArgmax(x, 2, 2);
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Unpool(pooled, Tensor.FromArray(acc, new long[4], [1, 2, 2, 1]), x.Shape)),
            "Unpool", "[1, 2, 2, 2]", "[1, 2, 2, 1]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Unpool(pooled, argmax, [1, 2, 4, 2])),
            "Unpool", "[1, 2, 4, 2]");
        // A switch outside the output (here 40 >= 4*4*2) is caught, not written out of bounds.
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Unpool(pooled, Tensor.FromArray(acc, [0L, 1L, 40L, 3L, 4L, 5L, 6L, 7L], [1, 2, 2, 2]), x.Shape)),
            "Unpool", "40");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void WrongRanksNameTheOpAndTheShape(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var image = Tensor.Zeros(acc, [4, 4, 2]);
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Conv2d(image, Tensor.Zeros(acc, [3, 3, 2, 8]))), "Conv2d", "[4, 4, 2]", "rank 4");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.MaxPoolWithArgmax(image, 2, 2)), "MaxPoolWithArgmax", "[4, 4, 2]", "rank 4");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.MaxPool(image, 2, 2)), "MaxPool", "[4, 4, 2]", "rank 4");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.AvgPool(image, 2, 2)), "AvgPool", "[4, 4, 2]", "rank 4");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.MatMul(image, Tensor.Zeros(acc, [2, 2]))), "MatMul", "[4, 4, 2]", "rank 2");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Softmax(image)), "Softmax", "[4, 4, 2]", "rank 2");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.SoftmaxCrossEntropy(image, Tensor.FromArray(acc, new int[4], [4]))), "SoftmaxCrossEntropy", "[4, 4, 2]", "rank 2");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.BiasAdd(Tensor.Zeros(acc, [3]), Tensor.Zeros(acc, [3]))), "BiasAdd", "[3]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.ReduceSum(image, [3])), "ReduceSum", "[4, 4, 2]", "axis 3");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.ReduceMean(image, [0, -3])), "ReduceMean", "[4, 4, 2]");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Argmax(image, 3)), "Argmax", "[4, 4, 2]", "axis 3");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Concat([image], 3)), "Concat", "[4, 4, 2]", "axis 3");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void IntegerTensorsWhereFloatsAreExpectedNameTheOpAndTheType(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var labels = Tensor.FromArray(acc, [1, 2, 3, 4], [2, 2]);
        var floats = Tensor.Zeros(acc, [2, 2]);
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Relu(labels)), "Relu", "[2, 2]", "Int32", "Float32");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Add(floats, labels)), "Add", "Int32");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.MatMul(labels, floats)), "MatMul", "Int32");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.ReduceSum(labels)), "ReduceSum", "Int32");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Concat([floats, labels], 0)), "Concat", "inputs[1]", "Int32");
        // Switches must be Int64 and labels Int32 or Float32.
        var pooled = Tensor.Zeros(acc, [1, 1, 1, 1]);
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.Unpool(pooled, Tensor.Zeros(acc, [1, 1, 1, 1]), [1, 2, 2, 1])), "Unpool", "argmax", "Float32", "Int64");
        AssertMentions(Assert.Throws<ArgumentException>(() => Functional.SoftmaxCrossEntropy(floats, Tensor.FromArray(acc, [0L, 1L], [2]))), "SoftmaxCrossEntropy", "Int64");
        // Integer tensors cannot require gradients.
        Assert.Throws<InvalidOperationException>(() => labels.RequireGrad());
    }

    [Fact]
    public void TensorsOnDifferentAcceleratorsNameBothAcceleratorsAndTheOp()
    {
        var cpu = TestAccelerators.Cpu;
        var opencl = TestAccelerators.Get("opencl");
        using var scope = new TensorScope();
        var a = Tensor.Zeros(cpu, [2, 3]);
        var b = Tensor.Zeros(opencl, [2, 3]);
        void Expect(string op, Action action)
        {
            var error = Assert.Throws<ArgumentException>(action);
            AssertMentions(error, op, cpu.ToString(), opencl.ToString(), "[2, 3]", "To(accelerator)");
        }
        Expect("Add", () => Functional.Add(a, b));
        Expect("Subtract", () => Functional.Subtract(a, b));
        Expect("Multiply", () => Functional.Multiply(a, b));
        Expect("MatMul", () => Functional.MatMul(a, b, transposeB: true));
        Expect("Concat", () => Functional.Concat([a, b], 0));
        Expect("BiasAdd", () => Functional.BiasAdd(a, Tensor.Zeros(opencl, [3])));
        Expect("SoftmaxCrossEntropy", () => Functional.SoftmaxCrossEntropy(a, Tensor.Zeros(opencl, [2, 3])));
        var image = Tensor.Zeros(cpu, [1, 2, 3, 1]);
        var filter = Tensor.Zeros(opencl, [1, 1, 1, 1]);
        var conv = Assert.Throws<ArgumentException>(() => Functional.Conv2d(image, filter));
        AssertMentions(conv, "Conv2d", cpu.ToString(), opencl.ToString());
        var transpose = Assert.Throws<ArgumentException>(() => Functional.Conv2dTranspose(image, filter, [1, 2, 3, 1]));
        AssertMentions(transpose, "Conv2dTranspose", cpu.ToString(), opencl.ToString());
        var unpool = Assert.Throws<ArgumentException>(() => Functional.Unpool(Tensor.Zeros(cpu, [1, 1, 1, 1]), Tensor.FromArray(opencl, [0L], [1, 1, 1, 1]), [1, 2, 2, 1]));
        AssertMentions(unpool, "Unpool", cpu.ToString(), opencl.ToString());
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void BackwardNeedsASeedOfTheRightShapeForANonScalar(string name)
    {
        var acc = TestAccelerators.Get(name);
        using var scope = new TensorScope();
        var w = Tensor.Ones(acc, [2, 3], requiresGrad: true);
        var y = Functional.Relu(w);
        AssertMentions(Assert.Throws<InvalidOperationException>(() => y.Backward()), "Backward", "[2, 3]", "6 elements", "seed");
        var wrong = Assert.Throws<ArgumentException>(() => y.Backward(Tensor.Ones(acc, [3, 2])));
        AssertMentions(wrong, "Backward", "[3, 2]", "[2, 3]");
        Assert.Equal("seed", wrong.ParamName);
        AssertMentions(Assert.Throws<ArgumentException>(() => y.Backward(Tensor.FromArray(acc, new int[6], [2, 3]))), "Backward", "Int32", "Float32");
        AssertMentions(Assert.Throws<InvalidOperationException>(() => Tensor.Ones(acc, [1]).Backward()), "Backward", "[1]", "requires a gradient");
        Assert.Null(w.Grad);   // nothing ran
        // A one-element tensor of any rank needs no seed.
        Functional.ReduceSum(y, keepDims: true).Backward();
        Assert.Equal([1f, 1f, 1f, 1f, 1f, 1f], w.Grad!.ToArray());
    }

    [Fact]
    public void BackwardRejectsASeedOnAnotherAccelerator()
    {
        var cpu = TestAccelerators.Cpu;
        var opencl = TestAccelerators.Get("opencl");
        using var scope = new TensorScope();
        var y = Functional.Relu(Tensor.Ones(cpu, [2], requiresGrad: true));
        AssertMentions(Assert.Throws<ArgumentException>(() => y.Backward(Tensor.Ones(opencl, [2]))), "Backward", cpu.ToString(), opencl.ToString());
    }
}
