using BenchmarkDotNet.Attributes;
using GpuDeconv.Compute;
using GpuDeconv.Compute.Ilgpu;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;
using GpuDeconv.Training;
using ILGPU.Algorithms;
using ILGPU.Algorithms.RadixSortOperations;
using ILGPU.Algorithms.ScanReduceOperations;
using IL = ILGPU.Runtime;

namespace GpuDeconv.Benchmarks;

/// <summary>
/// ILGPU.Algorithms beside our own kernels, on ILGPU's accelerators only (the other kinds have no ILGPU to call; the
/// filter in Program.cs leaves their cases out): a full sum (our <see cref="Reductions.Sum"/> against ILGPU's
/// <c>Reduce&lt;float, AddFloat&gt;</c>), and the ranking step of the trainer's top-9 search over one score per test
/// image (ours: the scores back to the host and <see cref="TopActivations.Best"/>, as the trainer does; ILGPU's: a
/// descending radix sort of (score, index) pairs on the device, and only the first 9 indices back).
/// </summary>
/// <remarks>
/// The radix sort sorts in place, so each of its iterations first copies the scores into the keys buffer, as a caller
/// that keeps its scores must; that copy is part of its cost. Results: docs/results/2026-12-07-ilgpu-algorithms.md.
/// </remarks>
public class IlgpuAlgorithmsBenchmarks : AcceleratorBenchmark
{
    /// <summary>Values summed: 4 Mi floats (16 MiB).</summary>
    public const int SumLength = 1 << 22;

    /// <summary>Scores ranked: one per image of a 10,000-image test set (CIFAR-10's and Fashion-MNIST's).</summary>
    public const int Scores = 10_000;

    /// <summary>The bias gradient's input, [N*H*W, C]: a 64-channel 24x24 convolution output at batch 128.</summary>
    public const int BiasRows = 128 * 24 * 24, BiasChannels = 64;

    /// <summary>The whole-tensor sums the library does: the mean of a batch of 128 losses.</summary>
    public const int LossBatch = 128;

    private MemoryBuffer1D<float, Stride1D.Dense> _dy = null!, _biasGrad = null!, _losses = null!, _lossMean = null!;
    private MemoryBuffer1D<float, Stride1D.Dense> _dyColumns = null!;
    private TensorView<float> _dyView, _biasGradView, _lossesView, _lossMeanView;

    private MemoryBuffer1D<float, Stride1D.Dense> _values = null!, _total = null!, _scores = null!, _keys = null!;
    private MemoryBuffer1D<int, Stride1D.Dense> _indices = null!, _temp = null!;
    private TensorView<float> _valuesView, _totalView;
    private IL.Accelerator _native = null!;
    private IL.AcceleratorStream _nativeStream = null!;
    private RadixSortPairs<float, ILGPU.Stride1D.Dense, int, ILGPU.Stride1D.Dense> _sortPairs = null!;
    private readonly float[] _hostScores = new float[Scores];
    private readonly int[] _hostBest = new int[TopActivations.Count];
    private int[] _firstIndices = null!;

    protected override void Setup()
    {
        if (Device is not IlgpuAccelerator ilgpu)
            throw new InvalidOperationException($"IlgpuAlgorithmsBenchmarks runs on ILGPU's accelerators only, not on '{Accelerator}'.");
        _native = ilgpu.Native;
        _nativeStream = Stream.AsIlgpuStream();

        var random = new Random(7);
        var values = new float[SumLength];
        for (int i = 0; i < values.Length; i++) values[i] = random.NextSingle();
        _values = Device.Allocate1D(values);
        _total = Device.Allocate1D<float>(1);
        _valuesView = new TensorView<float>(_values.View.BaseView, new Shape(SumLength));
        _totalView = new TensorView<float>(_total.View.BaseView, new Shape());

        var scores = new float[Scores];
        for (int i = 0; i < scores.Length; i++) scores[i] = random.NextSingle() * 8 - 2;
        _scores = Device.Allocate1D(scores);
        _keys = Device.Allocate1D<float>(Scores);
        _firstIndices = Enumerable.Range(0, Scores).ToArray();
        _indices = Device.Allocate1D(_firstIndices);
        _sortPairs = _native.CreateRadixSortPairs<float, ILGPU.Stride1D.Dense, int, ILGPU.Stride1D.Dense, DescendingFloat>();
        var tempSize = _native.ComputeRadixSortPairsTempStorageSize<float, int, DescendingFloat>(Scores);
        _temp = Device.Allocate1D<int>(tempSize);

        // Both rankings must agree before either is timed (random scores: no ties).
        int[] ours = TopActivations.Best(scores, TopActivations.Count);
        RankOnDevice();
        if (!ours.AsSpan().SequenceEqual(_hostBest))
            throw new InvalidOperationException($"ILGPU's radix sort ranked [{string.Join(",", _hostBest)}], ours [{string.Join(",", ours)}].");
        var dy = new float[BiasRows * BiasChannels];
        for (int i = 0; i < dy.Length; i++) dy[i] = random.NextSingle() * 2 - 1;
        _dy = Device.Allocate1D(dy);
        _biasGrad = Device.Allocate1D<float>(BiasChannels);
        _dyView = new TensorView<float>(_dy.View.BaseView, new Shape(BiasRows, BiasChannels));
        _dyColumns = Device.Allocate1D<float>(dy.Length);
        _biasGradView = new TensorView<float>(_biasGrad.View.BaseView, new Shape(BiasChannels));
        var losses = new float[LossBatch];
        for (int i = 0; i < losses.Length; i++) losses[i] = random.NextSingle() * 3;
        _losses = Device.Allocate1D(losses);
        _lossMean = Device.Allocate1D<float>(1);
        _lossesView = new TensorView<float>(_losses.View.BaseView, new Shape(LossBatch));
        _lossMeanView = new TensorView<float>(_lossMean.View.BaseView, new Shape());
        // Checked on the first 1024 rows: the same code paths, without the tens of seconds the whole transpose takes on
        // ilgpu-cpu in every benchmark's setup.
        OurBiasGrad(CheckRows);
        float[] ourGrad = _biasGrad.GetAsArray1D();
        AlgorithmsBiasGrad(CheckRows);
        float[] theirGrad = _biasGrad.GetAsArray1D();
        for (int c = 0; c < BiasChannels; c++)
            if (Math.Abs(ourGrad[c] - theirGrad[c]) > 1e-3f * (1 + Math.Abs(ourGrad[c])))
                throw new InvalidOperationException($"Bias gradients disagree at channel {c}: ours {ourGrad[c]}, ILGPU.Algorithms {theirGrad[c]}.");
        OurMean();
        float ourMean = _lossMean.GetAsArray1D()[0];
        AlgorithmsMean();
        float theirMean = _lossMean.GetAsArray1D()[0];
        if (Math.Abs(ourMean - theirMean) > 1e-5f * Math.Abs(ourMean))
            throw new InvalidOperationException($"Means disagree: ours {ourMean}, ILGPU.Algorithms {theirMean}.");

        OurSum();
        float mine = _total.GetAsArray1D()[0];
        AlgorithmsSum();
        float theirs = _total.GetAsArray1D()[0];
        if (Math.Abs(mine - theirs) > 1e-4f * Math.Abs(mine))
            throw new InvalidOperationException($"Sums disagree: ours {mine}, ILGPU.Algorithms {theirs}.");
    }

    protected override void Cleanup()
    {
        foreach (var buffer in new MemoryBuffer[] { _values, _total, _scores, _keys, _indices, _temp, _dy, _dyColumns, _biasGrad, _losses, _lossMean }) buffer?.Dispose();
    }

    [Benchmark(Description = "sum 16 MiB: ours")]
    public void OurSum()
    {
        Reductions.Sum(Stream, _valuesView, [0], _totalView);
        Stream.Synchronize();
    }

    [Benchmark(Description = "sum 16 MiB: ILGPU.Algorithms")]
    public void AlgorithmsSum()
    {
        _native.Reduce<float, AddFloat>(_nativeStream, _values.AsIlgpuView(), _total.AsIlgpuView());
        _nativeStream.Synchronize();
    }

    [Benchmark(Description = "bias gradient [73728, 64] per channel: ours")]
    public void OurBiasGrad() => OurBiasGrad(BiasRows);

    private void OurBiasGrad(int rows)
    {
        BiasAdd.BackwardBias(Stream, Rows(_dyView, rows), _biasGradView);
        Stream.Synchronize();
    }

    /// <summary>
    /// ILGPU.Algorithms' Reduce sums one whole view, so a per-channel sum is one Reduce per channel over a dense row of
    /// the transposed gradient (our Transpose kernel, [rows, C] to [C, rows], counted in). A column view with
    /// <c>Stride1D.General(C)</c> instead ends the process on ilgpu-cpu ("X index out of bounds", ILGPU 1.5.3).
    /// </summary>
    [Benchmark(Description = "bias gradient [73728, 64] per channel: ILGPU.Algorithms, transpose + one Reduce per channel")]
    public void AlgorithmsBiasGrad() => AlgorithmsBiasGrad(BiasRows);

    private void AlgorithmsBiasGrad(int rows)
    {
        var transposed = new TensorView<float>(_dyColumns.View.BaseView.SubView(0, (long)rows * BiasChannels), new Shape(BiasChannels, rows));
        Transpose.Forward(Stream, Rows(_dyView, rows), [1, 0], transposed);
        ILGPU.ArrayView<float> columns = _dyColumns.AsIlgpuView(), grad = _biasGrad.AsIlgpuView();
        for (int c = 0; c < BiasChannels; c++)
            _native.Reduce<float, AddFloat>(_nativeStream, columns.SubView((long)c * rows, rows), grad.SubView(c, 1));
        _nativeStream.Synchronize();
    }

    private const int CheckRows = 1024;

    /// <summary>The first <paramref name="rows"/> rows of a [rows, C] view.</summary>
    private static TensorView<float> Rows(TensorView<float> view, int rows) =>
        new(view.Data.SubView(0, (long)rows * BiasChannels), new Shape(rows, BiasChannels));

    [Benchmark(Description = "mean of 128 losses: ours")]
    public void OurMean()
    {
        Reductions.Mean(Stream, _lossesView, [0], _lossMeanView);
        Stream.Synchronize();
    }

    /// <summary>ILGPU.Algorithms sums on the device; the division by the count is done on the host, as a caller would.</summary>
    [Benchmark(Description = "mean of 128 losses: ILGPU.Algorithms")]
    public void AlgorithmsMean()
    {
        float sum = _native.Reduce<float, AddFloat>(_nativeStream, _losses.AsIlgpuView());
        _lossMean.CopyFromCPU([sum / LossBatch]);
    }

    [Benchmark(Description = "top-9 of 10k scores: ours (host)")]
    public int RankOnHost()
    {
        _scores.CopyToCPU(_hostScores);
        return TopActivations.Best(_hostScores, TopActivations.Count)[0];
    }

    [Benchmark(Description = "top-9 of 10k scores: ILGPU radix sort")]
    public int RankOnDevice()
    {
        _scores.View.BaseView.CopyTo(_keys.View.BaseView);
        _indices.CopyFromCPU(_firstIndices);
        _sortPairs(_nativeStream, _keys.AsIlgpuView(), _indices.AsIlgpuView(), _temp.AsIlgpuView());
        _nativeStream.Synchronize();
        _indices.View.BaseView.SubView(0, TopActivations.Count).CopyToCPU(_hostBest);
        return _hostBest[0];
    }
}
