using GpuDeconv.Compute.Conformance;
using Xunit;

namespace GpuDeconv.Kernels.Tests;

// Activations.cs: forward ops against double-precision references, the extremes of sigmoid, the three ReLU
// backward rules of docs/reference/op-semantics.md section 4 on hand-made vectors, and every backward against finite differences.
public sealed class ActivationsTests
{
    public static TheoryData<string, int> Sizes
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (string name in AcceleratorCatalog.Names)
                foreach (int n in new[] { 1, 7, 1001 })
                    data.Add(name, n);
            return data;
        }
    }

    [Theory, MemberData(nameof(Sizes))]
    public void ForwardMatchesDoubleReferences(string accelerator, int n)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        float[] x = Host.Random(21, n, -6f, 6f);
        var xv = scope.Upload(x, n);
        var y = scope.Allocate<float>(n);

        Activations.Relu(stream, xv, y);
        Check.Equal<float>(Array.ConvertAll(x, v => v < 0 ? 0f : v), Host.Download(y), "relu (exact)");
        // exp and tanh are library functions (a few ulp apart across backends): |a - ref| <= 1e-6 + 1e-5 |ref|.
        Activations.Sigmoid(stream, xv, y);
        Check.Close(Array.ConvertAll(x, v => 1 / (1 + Math.Exp(-(double)v))), FiniteDifference.ToDouble(Host.Download(y)), 1e-6, 1e-5, "sigmoid");
        Activations.Tanh(stream, xv, y);
        Check.Close(Array.ConvertAll(x, v => Math.Tanh(v)), FiniteDifference.ToDouble(Host.Download(y)), 1e-6, 1e-5, "tanh");
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void SigmoidAndTanhSaturateWithoutNaN(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        float[] x = [100f, -100f, 88.8f, -88.8f, 1e30f, -1e30f, float.PositiveInfinity, float.NegativeInfinity, 0f];
        var xv = scope.Upload(x, x.Length);
        var y = scope.Allocate<float>(x.Length);
        Activations.Sigmoid(acc.DefaultStream, xv, y);
        float[] s = Host.Download(y);
        Assert.All(s, v => Assert.False(float.IsNaN(v)));
        Assert.Equal([1f, 1f, 1f, 1f, 0.5f], new[] { s[0], s[2], s[4], s[6], s[8] });
        // Below 1e-30 and not negative; the device may flush the subnormal e^-100 = 3.7e-44 to 0.
        foreach (int i in new[] { 1, 3, 5, 7 }) Assert.InRange(s[i], 0f, 1e-30f);
        Assert.Equal(0f, s[7]);

        Activations.Tanh(acc.DefaultStream, xv, y);
        float[] t = Host.Download(y);
        Assert.Equal([1f, -1f, 1f, -1f, 1f, -1f, 1f, -1f, 0f], t);
    }

    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ReluPassesNaNThrough(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        var y = scope.Allocate<float>(3);
        Activations.Relu(acc.DefaultStream, scope.Upload([float.NaN, -1f, 2f], 3), y);
        float[] r = Host.Download(y);
        Assert.True(float.IsNaN(r[0]));
        Assert.Equal([0f, 2f], r[1..]);
    }

    // docs/reference/op-semantics.md section 4, "Related methods": f is the forward input, R the signal from above.
    [Theory, MemberData(nameof(TestAccelerators.Names), MemberType = typeof(TestAccelerators))]
    public void ReluBackwardRulesOnHandMadeVectors(string accelerator)
    {
        var acc = TestAccelerators.Get(accelerator);
        using var scope = new TensorScope(acc);
        float[] f = [1f, -1f, 2f, -2f, 0f, 3f, 0.5f];
        float[] r = [0.5f, 0.5f, -0.5f, -0.5f, 1f, 0f, 4f];
        var fv = scope.Upload(f, 7);
        var rv = scope.Upload(r, 7);
        var dx = scope.Allocate<float>(7);
        Activations.ReluBackward(acc.DefaultStream, rv, fv, dx);
        Check.Equal<float>([0.5f, 0f, -0.5f, 0f, 0f, 0f, 4f], Host.Download(dx), "gradient R*[f>0]");
        Activations.ReluBackward(acc.DefaultStream, rv, fv, dx, ReluBackwardRule.Deconvnet);
        Check.Equal<float>([0.5f, 0.5f, 0f, 0f, 1f, 0f, 4f], Host.Download(dx), "deconvnet R*[R>0]");
        Activations.ReluBackward(acc.DefaultStream, rv, fv, dx, ReluBackwardRule.Guided);
        Check.Equal<float>([0.5f, 0f, 0f, 0f, 0f, 0f, 4f], Host.Download(dx), "guided R*[f>0]*[R>0]");
    }

    [Theory, MemberData(nameof(Sizes))]
    public void BackwardKernelsMatchTheirFormulas(string accelerator, int n)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        float[] dy = Host.Random(22, n, -2f, 2f), y = Host.Random(23, n), f = Host.Random(24, n);
        var dyv = scope.Upload(dy, n);
        var dx = scope.Allocate<float>(n);
        Activations.SigmoidBackward(stream, dyv, scope.Upload(y, n), dx);
        Check.Equal<float>(Loop(n, i => dy[i] * y[i] * (1f - y[i])), Host.Download(dx), "dy*y*(1-y), exact");
        Activations.TanhBackward(stream, dyv, scope.Upload(y, n), dx);
        Check.Equal<float>(Loop(n, i => dy[i] * (1f - y[i] * y[i])), Host.Download(dx), "dy*(1-y^2), exact");
        var fv = scope.Upload(f, n);
        Activations.ReluBackward(stream, dyv, fv, dx, ReluBackwardRule.Guided);
        Check.Equal<float>(Loop(n, i => f[i] > 0 && dy[i] > 0 ? dy[i] : 0f), Host.Download(dx), "guided");
        // In place: the gradient overwrites the upstream signal.
        Activations.ReluBackward(stream, dyv, fv, dyv);
        Check.Equal<float>(Loop(n, i => f[i] > 0 ? dy[i] : 0f), Host.Download(dyv), "gradient, in place");
    }

    public static TheoryData<string, string> Backwards
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (string name in AcceleratorCatalog.Names)
                foreach (string op in new[] { "relu", "sigmoid", "tanh" })
                    data.Add(name, op);
            return data;
        }
    }

    // d<dy, act(x)>/dx by central differences; ReLU inputs stay at least 0.1 away from its kink.
    [Theory, MemberData(nameof(Backwards))]
    public void BackwardMatchesFiniteDifferences(string accelerator, string op)
    {
        var acc = TestAccelerators.Get(accelerator);
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        const int n = 23;
        float[] x = Host.Random(25, n, -3f, 3f);
        if (op == "relu")
            for (int i = 0; i < n; i++) if (MathF.Abs(x[i]) < 0.1f) x[i] = x[i] < 0 ? -0.5f : 0.5f;
        float[] dy = Host.Random(26, n);
        Func<double, double> f = op switch
        {
            "relu" => v => Math.Max(v, 0),
            "sigmoid" => v => 1 / (1 + Math.Exp(-v)),
            _ => Math.Tanh,
        };
        double[] numeric = FiniteDifference.Gradient(v => Array.ConvertAll(v, e => f(e)), FiniteDifference.ToDouble(x), FiniteDifference.ToDouble(dy));

        var xv = scope.Upload(x, n);
        var y = scope.Allocate<float>(n);
        var dx = scope.Allocate<float>(n);
        var dyv = scope.Upload(dy, n);
        switch (op)
        {
            case "relu":
                Activations.ReluBackward(stream, dyv, xv, dx);
                break;
            case "sigmoid":
                Activations.Sigmoid(stream, xv, y);
                Activations.SigmoidBackward(stream, dyv, y, dx);
                break;
            default:
                Activations.Tanh(stream, xv, y);
                Activations.TanhBackward(stream, dyv, y, dx);
                break;
        }
        // Float forward outputs feed the formulas: |a - ref| <= 1e-5 + 1e-4 |ref|.
        Check.Close(numeric, FiniteDifference.ToDouble(Host.Download(dx)), 1e-5, 1e-4, op + " backward vs central differences");
    }

    [Fact]
    public void ErrorsNameTheOpTheShapesAndTheRule()
    {
        var acc = TestAccelerators.Cpu;
        var stream = acc.DefaultStream;
        using var scope = new TensorScope(acc);
        var a = scope.Allocate<float>(4, 5);
        var b = scope.Allocate<float>(5, 4);
        var error = Assert.Throws<ArgumentException>(() => Activations.Sigmoid(stream, a, b));
        Assert.Contains("Activations.Sigmoid: y must have shape [4, 5] (the same shape as x), but it is [5, 4]", error.Message);
        error = Assert.Throws<ArgumentException>(() => Activations.ReluBackward(stream, a, b, a));
        Assert.Contains("Activations.ReluBackward: forwardInput must have shape [4, 5] (the same shape as outputGrad), but it is [5, 4]", error.Message);
        error = Assert.Throws<ArgumentException>(() => Activations.TanhBackward(stream, a, a, b));
        Assert.Contains("Activations.TanhBackward: inputGrad must have shape [4, 5] (the same shape as outputGrad), but it is [5, 4]", error.Message);
        error = Assert.Throws<ArgumentException>(() => Activations.ReluBackward(stream, a, a, a, (ReluBackwardRule)7));
        Assert.Contains("Activations.ReluBackward: rule 7 is not one of Gradient, Deconvnet, Guided", error.Message);
    }

    private static float[] Loop(int n, Func<int, float> f)
    {
        var result = new float[n];
        for (int i = 0; i < n; i++) result[i] = f(i);
        return result;
    }
}
