namespace GpuDeconv.Compute;

/// <summary>The barrier of one lane team, which also notices threads that skip a barrier.</summary>
/// <remarks>
/// Lanes either wait at a kernel barrier or finish the kernel for the group. In a well-formed group all
/// lanes do the same, so a lane finishing while another waits (or waiting after another finished) means
/// a barrier was skipped, typically by an early <c>return</c>: that is undefined behaviour on GPUs and is
/// reported here instead of hanging. Parallel teams block on a monitor; sequential teams only count.
/// </remarks>
internal sealed class GroupSync(int size, bool blocking)
{
    private readonly object _lock = new();
    private int _waiting;
    private int _finished;
    private long _generation;

    /// <summary>Wakes blocked lanes so they observe a cancelled job.</summary>
    public void Interrupt()
    {
        lock (_lock) Monitor.PulseAll(_lock);
    }

    /// <summary>A kernel barrier; returns once all lanes arrived.</summary>
    /// <exception cref="InvalidOperationException">Another lane of the group already finished the kernel.</exception>
    public void Barrier(CancellationToken token)
    {
        lock (_lock)
        {
            if (_finished > 0) throw Divergence(_finished, _waiting + 1);
            if (++_waiting == size)
            {
                _waiting = 0;
                Release();
                return;
            }
            if (blocking) Block(token);
        }
    }

    /// <summary>Marks this lane done with the group; the last lane runs <paramref name="onGroupDone"/> before the others continue.</summary>
    /// <exception cref="InvalidOperationException">Another lane of the group is waiting at a barrier.</exception>
    public void Finish(Action onGroupDone, CancellationToken token)
    {
        lock (_lock)
        {
            if (_waiting > 0) throw Divergence(_finished + 1, _waiting);
            if (++_finished == size)
            {
                _finished = 0;
                onGroupDone();
                Release();
                return;
            }
            if (blocking) Block(token);
        }
    }

    private void Release()
    {
        _generation++;
        if (blocking) Monitor.PulseAll(_lock);
    }

    private void Block(CancellationToken token)
    {
        long generation = _generation;
        while (generation == _generation)
        {
            token.ThrowIfCancellationRequested();
            Monitor.Wait(_lock);
        }
    }

    private static InvalidOperationException Divergence(int finished, int waiting) => new(
        $"Divergent barrier: {finished} thread(s) of the group returned from the kernel while {waiting} wait at a Group barrier. " +
        "Every thread of a group must reach every barrier (an early return before Group.Barrier is undefined behaviour on GPUs).");
}
