using GpuDeconv.Kernels;

namespace GpuDeconv.Layers.Tests;

// A chain of conv / ReLU / argmax-pool ops, described once and run two ways: on tensors through a ForwardTrace, and
// in DeconvnetReference's plain double loops.
internal abstract record NetOp;

internal sealed record ConvOp(float[] Filter, int[] FilterShape, float[]? Bias, int Stride, Padding Padding) : NetOp;

internal sealed record ReluOp : NetOp;

internal sealed record PoolOp(int Size, int Stride, Padding Padding) : NetOp;

// The slow, obviously right reference: NHWC nested loops in double, the window rule of docs/reference/op-semantics.md section 1, the
// scatter form of conv2d_transpose of section 2, first-maximum argmax of section 3 and the reverse passes of section 4.
internal sealed class DeconvnetReference
{
    private readonly NetOp[] _ops;
    private readonly List<int[]> _inputShapes = [];
    private readonly List<int[]> _outputShapes = [];
    private readonly List<double[]> _inputs = [];
    private readonly List<double[]> _outputs = [];
    private readonly List<long[]?> _switches = [];

    public DeconvnetReference(NetOp[] ops, float[] x, int[] shape)
    {
        _ops = ops;
        double[] h = Array.ConvertAll(x, v => (double)v);
        foreach (var op in ops)
        {
            _inputShapes.Add(shape);
            _inputs.Add(h);
            long[]? switches = null;
            (h, shape) = op switch
            {
                ConvOp c => Conv(h, shape, c),
                ReluOp => (Array.ConvertAll(h, v => Math.Max(v, 0.0)), shape),
                PoolOp p => Pool(h, shape, p, out switches),
                _ => throw new InvalidOperationException(),
            };
            _switches.Add(switches);
            _outputs.Add(h);
            _outputShapes.Add(shape);
        }
    }

    public double[] Output(int step) => _outputs[step];

    public int[] OutputShape(int step) => _outputShapes[step];

    public static double[] Select(double[] a, int[] shape, SelectionKind kind, int channel)
    {
        int n = shape[0], hw = shape[1] * shape[2], c = shape[3];
        var seed = new double[a.Length];
        for (int b = 0; b < n; b++)
        {
            int best = -1;
            for (int p = 0; p < hw; p++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    int i = (b * hw + p) * c + ch;
                    if (kind == SelectionKind.AllMaps || (kind == SelectionKind.FeatureMap && ch == channel)) seed[i] = a[i];
                    if (kind == SelectionKind.StrongestActivation && ch == channel && (best < 0 || a[i] > a[best])) best = i;
                }
            }
            if (best >= 0) seed[best] = a[best];
        }
        return seed;
    }

    // Walks `seed` (the shape of step `end`'s output) down to the input.
    public double[] Project(int end, DeconvnetVariant variant, double[] seed)
    {
        double[] r = seed;
        for (int i = end; i >= 0; i--)
        {
            int[] inShape = _inputShapes[i];
            switch (_ops[i])
            {
                case PoolOp:
                    var up = new double[Size(inShape)];
                    int perImage = inShape[1] * inShape[2] * inShape[3], pooledPerImage = Size(_outputShapes[i]) / inShape[0];
                    for (int e = 0; e < r.Length; e++) up[e / pooledPerImage * perImage + _switches[i]![e]] += r[e];
                    r = up;
                    break;
                case ReluOp:
                    double[] f = _inputs[i];
                    r = variant switch
                    {
                        DeconvnetVariant.Tutorial => r,
                        DeconvnetVariant.ZeilerFergus => r.Select(v => v > 0 ? v : 0).ToArray(),
                        DeconvnetVariant.GuidedBackprop => r.Select((v, k) => v > 0 && f[k] > 0 ? v : 0).ToArray(),
                        _ => r.Select((v, k) => f[k] > 0 ? v : 0).ToArray(),
                    };
                    break;
                case ConvOp c:
                    if (variant == DeconvnetVariant.Tutorial && c.Bias is not null)
                        r = r.Select((v, k) => v - c.Bias[k % c.Bias.Length]).ToArray();
                    r = ConvTranspose(r, _outputShapes[i], c, inShape);
                    break;
            }
        }
        return r;
    }

    private static int Size(int[] s) => s.Aggregate(1, (a, b) => a * b);

    private static (int Out, int PadBefore) Window(int n, int k, int s, Padding padding)
    {
        if (padding == Padding.Valid) return ((n - k + s) / s, 0);
        int o = (n + s - 1) / s;
        return (o, Math.Max(0, (o - 1) * s + k - n) / 2);
    }

    private static (double[], int[]) Conv(double[] x, int[] xs, ConvOp c)
    {
        int kh = c.FilterShape[0], kw = c.FilterShape[1], ci = c.FilterShape[2], co = c.FilterShape[3];
        var (oh, pt) = Window(xs[1], kh, c.Stride, c.Padding);
        var (ow, pl) = Window(xs[2], kw, c.Stride, c.Padding);
        int[] ys = [xs[0], oh, ow, co];
        var y = new double[Size(ys)];
        for (int b = 0; b < xs[0]; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int o = 0; o < co; o++)
        {
            double sum = c.Bias?[o] ?? 0;
            for (int u = 0; u < kh; u++)
            for (int v = 0; v < kw; v++)
            {
                int yy = i * c.Stride + u - pt, xx = j * c.Stride + v - pl;
                if (yy < 0 || yy >= xs[1] || xx < 0 || xx >= xs[2]) continue;
                for (int q = 0; q < ci; q++)
                    sum += x[((b * xs[1] + yy) * xs[2] + xx) * ci + q] * c.Filter[((u * kw + v) * ci + q) * co + o];
            }
            y[((b * oh + i) * ow + j) * co + o] = sum;
        }
        return (y, ys);
    }

    // Scatter form: out[b, i*s+u-pad, j*s+v-pad, q] += r[b,i,j,o] * F[u,v,q,o]; the padding comes from the output size.
    private static double[] ConvTranspose(double[] r, int[] rs, ConvOp c, int[] outShape)
    {
        int kh = c.FilterShape[0], kw = c.FilterShape[1], ci = c.FilterShape[2], co = c.FilterShape[3];
        int pt = Window(outShape[1], kh, c.Stride, c.Padding).PadBefore, pl = Window(outShape[2], kw, c.Stride, c.Padding).PadBefore;
        var output = new double[Size(outShape)];
        for (int b = 0; b < rs[0]; b++)
        for (int i = 0; i < rs[1]; i++)
        for (int j = 0; j < rs[2]; j++)
        for (int o = 0; o < co; o++)
        for (int u = 0; u < kh; u++)
        for (int v = 0; v < kw; v++)
        {
            int yy = i * c.Stride + u - pt, xx = j * c.Stride + v - pl;
            if (yy < 0 || yy >= outShape[1] || xx < 0 || xx >= outShape[2]) continue;
            for (int q = 0; q < ci; q++)
                output[((b * outShape[1] + yy) * outShape[2] + xx) * ci + q] += r[((b * rs[1] + i) * rs[2] + j) * co + o] * c.Filter[((u * kw + v) * ci + q) * co + o];
        }
        return output;
    }

    // Max pool with TF's switches (y*W + x)*C + c; padded cells are never candidates; the first maximum wins.
    private static (double[], int[]) Pool(double[] x, int[] xs, PoolOp p, out long[] switches)
    {
        var (oh, pt) = Window(xs[1], p.Size, p.Stride, p.Padding);
        var (ow, pl) = Window(xs[2], p.Size, p.Stride, p.Padding);
        int[] ys = [xs[0], oh, ow, xs[3]];
        var y = new double[Size(ys)];
        switches = new long[y.Length];
        for (int b = 0; b < xs[0]; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int c = 0; c < xs[3]; c++)
        {
            double best = double.NegativeInfinity;
            long at = -1;
            for (int u = 0; u < p.Size; u++)
            for (int v = 0; v < p.Size; v++)
            {
                int yy = i * p.Stride + u - pt, xx = j * p.Stride + v - pl;
                if (yy < 0 || yy >= xs[1] || xx < 0 || xx >= xs[2]) continue;
                double value = x[((b * xs[1] + yy) * xs[2] + xx) * xs[3] + c];
                if (value > best)
                {
                    best = value;
                    at = ((long)yy * xs[2] + xx) * xs[3] + c;
                }
            }
            int e = ((b * oh + i) * ow + j) * xs[3] + c;
            y[e] = best;
            switches[e] = at;
        }
        return (y, ys);
    }
}
