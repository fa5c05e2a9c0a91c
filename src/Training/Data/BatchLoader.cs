using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using GpuDeconv.Kernels;
using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>How a <see cref="BatchLoader"/> cuts, orders and prepares the batches.</summary>
/// <param name="BatchSize">Rows per batch.</param>
public sealed record BatchOptions(int BatchSize)
{
    /// <summary>Whether each epoch visits the examples in a fresh random order (false: data-set order, as TF's evaluation input).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>The run's seed: epoch e's order depends only on (Seed, e), and each example's distortion on (Seed, e, index).</summary>
    public ulong Seed { get; init; }

    /// <summary>What happens to the examples left over at the end of an epoch.</summary>
    public PartialBatch LastBatch { get; init; } = PartialBatch.Keep;

    /// <summary>Batches prepared ahead of the consumer (the bounded queue's capacity).</summary>
    public int Prefetch { get; init; } = 4;

    /// <summary>Threads preprocessing the examples of one batch.</summary>
    public int Parallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>The first global step to produce (a resumed run starts where its checkpoint stopped and sees the same batches).</summary>
    public long StartStep { get; init; }

    /// <summary>The step to stop before (from <see cref="EpochSchedule.StepsForEpochs"/> for a number of epochs), or null for no end.</summary>
    public long? EndStep { get; init; }
}

/// <summary>
/// Yields batches of a data set in the background: a producer task shuffles each epoch, preprocesses the next batches on
/// <see cref="BatchOptions.Parallelism"/> threads and queues up to <see cref="BatchOptions.Prefetch"/> of them, so the
/// accelerator need not wait for the CPU. The batches' contents depend only on the data, the options and the step,
/// never on timing. An exception in the producer is thrown by the read that would have returned the failed batch.
/// </summary>
public sealed class BatchLoader : IDisposable
{
    /// <summary>Separates the shuffle's random stream from the examples' (<see cref="Preprocessing.ExampleSeed"/>) under one seed.</summary>
    private const ulong ShuffleStream = 0x5348_5546_464C_4521;  // "SHUFFLE!"

    private readonly Dataset _dataset;
    private readonly Preprocess _preprocess;
    private readonly BatchOptions _options;
    private readonly Channel<Batch> _queue;
    private readonly ConcurrentQueue<Batch> _free = new();
    private readonly CancellationTokenSource _stop;
    private readonly Task _producer;
    private ExceptionDispatchInfo? _failure;
    private int _disposed;

    /// <summary>Starts producing batches of <paramref name="dataset"/> prepared by <paramref name="preprocess"/>.</summary>
    /// <exception cref="ArgumentException">The data set's image shape is not the one <paramref name="preprocess"/> accepts, or the options are out of range (see <see cref="EpochSchedule"/>).</exception>
    public BatchLoader(Dataset dataset, Preprocess preprocess, BatchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(preprocess);
        ArgumentNullException.ThrowIfNull(options);
        if (!dataset.ImageShape.Equals(preprocess.Input))
            throw new ArgumentException(
                $"BatchLoader: preprocess {preprocess.Name} takes {preprocess.Input} images, but {dataset.Name} holds {dataset.ImageShape}.", nameof(preprocess));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Prefetch, nameof(options.Prefetch));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Parallelism, nameof(options.Parallelism));
        ArgumentOutOfRangeException.ThrowIfNegative(options.StartStep, nameof(options.StartStep));
        if (options.EndStep < options.StartStep)
            throw new ArgumentOutOfRangeException(nameof(options), $"BatchLoader: EndStep {options.EndStep} is before StartStep {options.StartStep}.");

        Schedule = new EpochSchedule(dataset.Count, options.BatchSize, options.LastBatch);
        _dataset = dataset;
        _preprocess = preprocess;
        _options = options;
        _queue = Channel.CreateBounded<Batch>(new BoundedChannelOptions(options.Prefetch)
        {
            SingleReader = false,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _producer = Task.Run(() => ProduceAsync(_stop.Token));
    }

    /// <summary>The step and epoch arithmetic of this loader.</summary>
    public EpochSchedule Schedule { get; }

    /// <summary>The shape of one preprocessed image, [H, W, C].</summary>
    public Shape ImageShape => _preprocess.Output;

    /// <summary>
    /// The next batch in step order, or null after <see cref="BatchOptions.EndStep"/>; waits while the producer prepares it.
    /// Cancelling <paramref name="cancellationToken"/> abandons this wait only.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The loader was disposed.</exception>
    /// <exception cref="OperationCanceledException">The token, or the token the loader was created with, was cancelled.</exception>
    /// <exception cref="Exception">Whatever the preprocessing of this batch threw (the producer stops there).</exception>
    public async ValueTask<Batch?> ReadAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        while (await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_queue.Reader.TryRead(out var batch)) return batch;
        }
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        _failure?.Throw();
        _stop.Token.ThrowIfCancellationRequested();
        return null;
    }

    /// <summary>The blocking form of <see cref="ReadAsync"/>, for a synchronous training loop.</summary>
    /// <exception cref="ObjectDisposedException">The loader was disposed.</exception>
    /// <exception cref="OperationCanceledException">A token was cancelled.</exception>
    public Batch? Read(CancellationToken cancellationToken = default)
    {
        var pending = ReadAsync(cancellationToken);
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Every remaining batch in step order, until <see cref="BatchOptions.EndStep"/> (forever without one).</summary>
    /// <exception cref="ObjectDisposedException">The loader was disposed.</exception>
    public async IAsyncEnumerable<Batch> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReadAsync(cancellationToken).ConfigureAwait(false) is { } batch)
            yield return batch;
    }

    /// <summary>Stops the producer, waits for it to finish and drops the queued batches.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        try
        {
            _producer.Wait();
        }
        catch (AggregateException)
        {
            // ProduceAsync records its own failures; nothing else can fault it.
        }
        while (_queue.Reader.TryRead(out _)) { }
        _free.Clear();
        _stop.Dispose();
    }

    internal void Return(Batch batch)
    {
        // Keep as many buffers as can be in flight (queued, being filled, being used); more would only hold memory.
        if (Volatile.Read(ref _disposed) == 0 && _free.Count < _options.Prefetch + 2) _free.Enqueue(batch);
    }

    private async Task ProduceAsync(CancellationToken stop)
    {
        var order = new int[_dataset.Count];
        int orderEpoch = -1;
        try
        {
            for (long step = _options.StartStep; _options.EndStep is not { } end || step < end; step++)
            {
                stop.ThrowIfCancellationRequested();
                int epoch = Schedule.EpochOf(step);
                if (epoch != orderEpoch)
                {
                    FillOrder(order, epoch);
                    orderEpoch = epoch;
                }
                var batch = _free.TryDequeue(out var reused) ? reused : new Batch(this, _options.BatchSize, _preprocess.Output);
                Fill(batch, step, epoch, order, stop);
                await _queue.Writer.WriteAsync(batch, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Parallel.For wraps what the preprocessing threw; hand the consumer the original.
            var original = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : e;
            _failure = ExceptionDispatchInfo.Capture(original);
        }
        finally
        {
            _queue.Writer.TryComplete();
        }
    }

    /// <summary>Epoch <paramref name="epoch"/>'s visiting order: a Fisher-Yates shuffle seeded by (seed, epoch) only.</summary>
    private void FillOrder(int[] order, int epoch)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (!_options.Shuffle) return;
        var random = new SplitMix(SplitMix.Mix(_options.Seed ^ ShuffleStream) ^ (uint)epoch);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    private void Fill(Batch batch, long step, int epoch, int[] order, CancellationToken stop)
    {
        int stepInEpoch = Schedule.StepInEpoch(step);
        int first = stepInEpoch * _options.BatchSize;
        int fresh = Math.Min(_options.BatchSize, order.Length - first);
        int count = _options.LastBatch == PartialBatch.PadWrap ? _options.BatchSize : fresh;
        batch.Reset(step, epoch, stepInEpoch, count, count - fresh);
        var indices = batch.IndexBuffer;
        var labels = batch.LabelBuffer;
        for (int row = 0; row < count; row++)
        {
            // Rows past the end of the epoch (PadWrap only) take the epoch's first examples again, cycling if needed.
            int index = order[(first + row) % order.Length];
            indices[row] = index;
            labels[row] = _dataset.Label(index);
        }

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism, CancellationToken = stop };
        Parallel.For(0, count, parallel, row =>
        {
            int index = batch.IndexBuffer[row];
            _preprocess.Apply(_dataset.ImageSpan(index), batch.ImageRow(row), Preprocessing.ExampleSeed(_options.Seed, epoch, index));
        });
    }
}
