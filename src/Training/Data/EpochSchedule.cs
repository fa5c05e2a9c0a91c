namespace GpuDeconv.Training;

/// <summary>
/// Step and epoch arithmetic for a data set of <see cref="Examples"/> read in batches of <see cref="BatchSize"/>: a global
/// step s falls in epoch s / StepsPerEpoch, so training for N steps or E epochs, or resuming at a step, agree.
/// </summary>
public sealed record EpochSchedule
{
    /// <summary>Describes how a data set is cut into batches.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The example count or batch size is not positive.</exception>
    /// <exception cref="ArgumentException"><see cref="PartialBatch.Drop"/> with fewer examples than one batch, which would give empty epochs.</exception>
    public EpochSchedule(int examples, int batchSize, PartialBatch lastBatch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(examples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (!Enum.IsDefined(lastBatch)) throw new ArgumentOutOfRangeException(nameof(lastBatch), lastBatch, "Unknown partial-batch policy.");
        if (lastBatch == PartialBatch.Drop && examples < batchSize)
            throw new ArgumentException(
                $"EpochSchedule: {examples} examples make no full batch of {batchSize}, so dropping the partial batch leaves nothing; use Keep or PadWrap, or a smaller batch.",
                nameof(lastBatch));
        Examples = examples;
        BatchSize = batchSize;
        LastBatch = lastBatch;
        StepsPerEpoch = lastBatch == PartialBatch.Drop ? examples / batchSize : (examples + batchSize - 1) / batchSize;
    }

    /// <summary>Examples in the data set.</summary>
    public int Examples { get; }

    /// <summary>Rows per full batch.</summary>
    public int BatchSize { get; }

    /// <summary>The policy for the examples left over at the end of an epoch.</summary>
    public PartialBatch LastBatch { get; }

    /// <summary>Batches per epoch: Examples / BatchSize, rounded down for Drop and up otherwise.</summary>
    public int StepsPerEpoch { get; }

    /// <summary>The steps that make <paramref name="epochs"/> whole epochs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The epoch count is negative.</exception>
    public long StepsForEpochs(int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        return (long)epochs * StepsPerEpoch;
    }

    /// <summary>The epoch (from 0) that global step <paramref name="step"/> (from 0) belongs to.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The step is negative.</exception>
    public int EpochOf(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return checked((int)(step / StepsPerEpoch));
    }

    /// <summary>The position (from 0) of global step <paramref name="step"/> inside its epoch.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The step is negative.</exception>
    public int StepInEpoch(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return (int)(step % StepsPerEpoch);
    }

    /// <summary>Epochs completed after <paramref name="steps"/> steps, fractional (for logs: 15,000 steps of 128 over 50,000 examples is 38.46).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The step count is negative.</exception>
    public double EpochsAfter(long steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        return (double)steps / StepsPerEpoch;
    }
}
