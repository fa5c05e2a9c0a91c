namespace GpuDeconv.Layers.Tests;

/// <summary>
/// Slow, obviously right references in double precision (plain nested loops, never optimized), written from
/// docs/reference/op-semantics.md: NHWC activations, HWIO filters, TF's SAME/VALID window rule with the odd pad cell after the data.
/// </summary>
public static class Reference
{
    /// <summary>TF's windowed output size and the padding before the data (docs/reference/op-semantics.md section 1, dilation 1).</summary>
    public static (int Output, int PadBefore) Window(int n, int k, int s, bool same)
    {
        if (!same) return ((n - k + s) / s, 0);
        int output = (n + s - 1) / s;
        int total = Math.Max(0, (output - 1) * s + k - n);
        return (output, total / 2);
    }

    /// <summary>tf.nn.conv2d: x [N,H,W,Ci], w [KH,KW,Ci,Co], optional bias [Co] -> [N,OH,OW,Co].</summary>
    public static double[] Conv2d(double[] x, int[] xs, double[] w, int[] ws, int sh, int sw, bool same, double[]? bias = null)
    {
        int n = xs[0], h = xs[1], wd = xs[2], ci = xs[3], kh = ws[0], kw = ws[1], co = ws[3];
        var (oh, pt) = Window(h, kh, sh, same);
        var (ow, pl) = Window(wd, kw, sw, same);
        var y = new double[n * oh * ow * co];
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int o = 0; o < co; o++)
        {
            double sum = bias?[o] ?? 0;
            for (int p = 0; p < kh; p++)
            for (int q = 0; q < kw; q++)
            {
                int r = i * sh + p - pt, c = j * sw + q - pl;
                if (r < 0 || r >= h || c < 0 || c >= wd) continue;
                for (int m = 0; m < ci; m++) sum += x[((b * h + r) * wd + c) * ci + m] * w[((p * kw + q) * ci + m) * co + o];
            }
            y[((b * oh + i) * ow + j) * co + o] = sum;
        }
        return y;
    }

    /// <summary>tf.nn.conv2d_transpose in scatter form (docs/reference/op-semantics.md section 2): v [N,h,w,Ci], w [KH,KW,Co,Ci] -> outShape [N,H,W,Co].</summary>
    public static double[] Conv2dTranspose(double[] v, int[] vs, double[] w, int[] ws, int[] outShape, int sh, int sw, bool same)
    {
        int n = vs[0], vh = vs[1], vw = vs[2], ci = vs[3], kh = ws[0], kw = ws[1], h = outShape[1], wd = outShape[2], co = outShape[3];
        int pt = Window(h, kh, sh, same).PadBefore, pl = Window(wd, kw, sw, same).PadBefore;
        var y = new double[n * h * wd * co];
        for (int b = 0; b < n; b++)
        for (int i = 0; i < vh; i++)
        for (int j = 0; j < vw; j++)
        for (int m = 0; m < ci; m++)
        for (int p = 0; p < kh; p++)
        for (int q = 0; q < kw; q++)
        {
            int r = i * sh + p - pt, c = j * sw + q - pl;
            if (r < 0 || r >= h || c < 0 || c >= wd) continue;
            for (int o = 0; o < co; o++) y[((b * h + r) * wd + c) * co + o] += v[((b * vh + i) * vw + j) * ci + m] * w[((p * kw + q) * co + o) * ci + m];
        }
        return y;
    }

    /// <summary>Max pooling with TF's argmax (first maximum in row-major window order; padded cells are never candidates).</summary>
    public static (double[] Values, long[] Argmax) MaxPoolWithArgmax(double[] x, int[] xs, int kh, int kw, int sh, int sw, bool same, bool includeBatch)
    {
        int n = xs[0], h = xs[1], wd = xs[2], ch = xs[3];
        var (oh, pt) = Window(h, kh, sh, same);
        var (ow, pl) = Window(wd, kw, sw, same);
        var values = new double[n * oh * ow * ch];
        var argmax = new long[values.Length];
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int c = 0; c < ch; c++)
        {
            double best = double.NegativeInfinity;
            long index = -1;
            for (int p = 0; p < kh; p++)
            for (int q = 0; q < kw; q++)
            {
                int r = i * sh + p - pt, s = j * sw + q - pl;
                if (r < 0 || r >= h || s < 0 || s >= wd) continue;
                double v = x[((b * h + r) * wd + s) * ch + c];
                if (index < 0 || v > best)
                {
                    best = v;
                    index = ((long)(includeBatch ? b * h + r : r) * wd + s) * ch + c;
                }
            }
            int e = ((b * oh + i) * ow + j) * ch + c;
            values[e] = best;
            argmax[e] = index;
        }
        return (values, argmax);
    }

    /// <summary>tf.nn.avg_pool: SAME divides by the number of real cells in each window.</summary>
    public static double[] AvgPool(double[] x, int[] xs, int kh, int kw, int sh, int sw, bool same)
    {
        int n = xs[0], h = xs[1], wd = xs[2], ch = xs[3];
        var (oh, pt) = Window(h, kh, sh, same);
        var (ow, pl) = Window(wd, kw, sw, same);
        var y = new double[n * oh * ow * ch];
        for (int b = 0; b < n; b++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        for (int c = 0; c < ch; c++)
        {
            double sum = 0;
            int count = 0;
            for (int p = 0; p < kh; p++)
            for (int q = 0; q < kw; q++)
            {
                int r = i * sh + p - pt, s = j * sw + q - pl;
                if (r < 0 || r >= h || s < 0 || s >= wd) continue;
                sum += x[((b * h + r) * wd + s) * ch + c];
                count++;
            }
            y[((b * oh + i) * ow + j) * ch + c] = sum / count;
        }
        return y;
    }

    /// <summary>The tutorials' un_max_pool (scatter_nd): zeros of outShape with each value added at its switch.</summary>
    public static double[] Unpool(double[] values, long[] argmax, int[] valueShape, int[] outShape, bool includeBatch)
    {
        var y = new double[outShape[0] * outShape[1] * outShape[2] * outShape[3]];
        long perImage = (long)outShape[1] * outShape[2] * outShape[3];
        long perValueImage = (long)valueShape[1] * valueShape[2] * valueShape[3];
        for (int e = 0; e < values.Length; e++)
        {
            long b = e / perValueImage;
            long target = includeBatch ? argmax[e] : b * perImage + argmax[e];
            y[target] += values[e];
        }
        return y;
    }

    /// <summary>tf.matmul with transposes: op(a) [M,K] times op(b) [K,N].</summary>
    public static double[] MatMul(double[] a, int[] ashape, double[] b, int[] bshape, bool ta, bool tb)
    {
        int m = ta ? ashape[1] : ashape[0], k = ta ? ashape[0] : ashape[1], n = tb ? bshape[0] : bshape[1];
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = 0;
            for (int p = 0; p < k; p++)
                sum += (ta ? a[p * ashape[1] + i] : a[i * ashape[1] + p]) * (tb ? b[j * bshape[1] + p] : b[p * bshape[1] + j]);
            c[i * n + j] = sum;
        }
        return c;
    }

    /// <summary>Row-wise softmax of [B, K].</summary>
    public static double[] Softmax(double[] z, int rows, int classes)
    {
        var y = new double[z.Length];
        for (int b = 0; b < rows; b++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int k = 0; k < classes; k++) max = Math.Max(max, z[b * classes + k]);
            for (int k = 0; k < classes; k++) sum += Math.Exp(z[b * classes + k] - max);
            for (int k = 0; k < classes; k++) y[b * classes + k] = Math.Exp(z[b * classes + k] - max) / sum;
        }
        return y;
    }

    /// <summary>Per-example cross entropy -sum_k p[b,k] log softmax(z[b])[k].</summary>
    public static double[] CrossEntropy(double[] z, double[] p, int rows, int classes)
    {
        var y = Softmax(z, rows, classes);
        var loss = new double[rows];
        for (int b = 0; b < rows; b++)
        for (int k = 0; k < classes; k++)
            loss[b] -= p[b * classes + k] * Math.Log(y[b * classes + k]);
        return loss;
    }

    /// <summary>Sum (or mean) of x over <paramref name="axes"/>, in the reduced row-major order.</summary>
    public static double[] Reduce(double[] x, int[] shape, int[] axes, bool mean)
    {
        int rank = shape.Length;
        var reduced = new bool[rank];
        foreach (int a in axes) reduced[a < 0 ? a + rank : a] = true;
        int outSize = 1, count = 1;
        for (int d = 0; d < rank; d++)
        {
            if (reduced[d]) count *= shape[d];
            else outSize *= shape[d];
        }
        var y = new double[outSize];
        var index = new int[rank];
        for (int e = 0; e < x.Length; e++)
        {
            int rest = e;
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            int target = 0;
            for (int d = 0; d < rank; d++)
                if (!reduced[d]) target = target * shape[d] + index[d];
            y[target] += x[e];
        }
        if (mean) for (int i = 0; i < y.Length; i++) y[i] /= count;
        return y;
    }
}
