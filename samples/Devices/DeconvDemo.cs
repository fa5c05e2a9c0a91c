using GpuDeconv.Compute;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;

/// <summary>
/// The deconv tutorial's two worked examples (docs/reference/op-semantics.md section 7) on one accelerator: argmax pooling
/// and unpooling of a 4x4x2 image, and a stride-2 convolution followed by its transpose.
/// </summary>
static class DeconvDemo
{
    public static bool Run(Accelerator accelerator)
    {
        var stream = accelerator.DefaultStream;

        // 7(b): row r of a 1x4x4x2 image holds the pixel [r, r+4]; 2x2 stride-2 SAME pooling with argmax.
        var image = new float[4 * 4 * 2];
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++)
            {
                image[(r * 4 + c) * 2] = r;
                image[(r * 4 + c) * 2 + 1] = r + 4;
            }
        using var x = accelerator.Allocate1D(image);
        using var pooled = accelerator.Allocate1D<float>(8);
        using var argmax = accelerator.Allocate1D<long>(8);
        using var unpooled = accelerator.Allocate1D<float>(image.Length);
        var pool = new PoolOptions(2, 2, Padding.Same);
        MaxPoolWithArgmax.Forward(stream, new(x.View, new Shape(1, 4, 4, 2)), new(pooled.View, new Shape(1, 2, 2, 2)),
            new(argmax.View, new Shape(1, 2, 2, 2)), pool);
        Unpool.Forward(stream, new(pooled.View, new Shape(1, 2, 2, 2)), new(argmax.View, new Shape(1, 2, 2, 2)),
            new(unpooled.View, new Shape(1, 4, 4, 2)));
        long[] mask = argmax.GetAsArray1D();
        bool maskOk = mask.SequenceEqual([8L, 9, 12, 13, 24, 25, 28, 29]);
        float[] back = unpooled.GetAsArray1D();
        // Every cell is zero except rows 1 and 3 at columns 0 and 2, which get their row's pixel back.
        bool unpoolOk = Enumerable.Range(0, image.Length).All(i =>
        {
            int row = i / 8, column = i / 2 % 4;
            return back[i] == (row % 2 == 1 && column % 2 == 0 ? image[i] : 0f);
        });

        // 7(a): a 4x4 image of ones, the filter [[1, 0], [-1, -2]], stride 2: conv gives -2 everywhere, and
        // conv2d_transpose back to 4x4 gives [-2,0,-2,0] / [2,4,2,4] twice.
        using var ones = accelerator.Allocate1D(Enumerable.Repeat(1f, 16).ToArray());
        using var filter = accelerator.Allocate1D(new float[] { 1, 0, -1, -2 });
        using var conv = accelerator.Allocate1D<float>(4);
        using var transposed = accelerator.Allocate1D<float>(16);
        var options = new Conv2dOptions(2, Padding.Valid);
        var filterView = new TensorView<float>(filter.View, new Shape(2, 2, 1, 1));
        Conv2dKernels.Forward(stream, new(ones.View, new Shape(1, 4, 4, 1)), filterView, new(conv.View, new Shape(1, 2, 2, 1)), options);
        Conv2dTranspose.Forward(stream, new(conv.View, new Shape(1, 2, 2, 1)), filterView, new(transposed.View, new Shape(1, 4, 4, 1)), options);
        float[] convResult = conv.GetAsArray1D();
        float[] transposeResult = transposed.GetAsArray1D();
        bool convOk = convResult.All(v => v == -2f);
        bool transposeOk = transposeResult.SequenceEqual([-2f, 0, -2, 0, 2, 4, 2, 4, -2, 0, -2, 0, 2, 4, 2, 4]);

        Console.WriteLine(
            $"{accelerator}: max_pool_with_argmax mask [{string.Join(", ", mask)}] {Verdict(maskOk)}, unpool {Verdict(unpoolOk)}, " +
            $"conv2d {Verdict(convOk)}, conv2d_transpose [{Rows(transposeResult, 4)}] {Verdict(transposeOk)}");
        return maskOk && unpoolOk && convOk && transposeOk;
    }

    private static string Verdict(bool ok) => ok ? "ok" : "WRONG";

    private static string Rows(float[] values, int width) =>
        string.Join(" / ", values.Chunk(width).Select(row => string.Join(",", row)));
}
