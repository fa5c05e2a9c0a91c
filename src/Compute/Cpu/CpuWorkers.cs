using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace GpuDeconv.Compute;

/// <summary>
/// A fork-join pool for the CPU accelerator's host routes: one thread per core but the caller's, started on first use,
/// that spin for a while after each job before they sleep, so that the many short parallel steps of one forward pass
/// (a ResNet-18 image makes about 150, most under a millisecond) do not each wait for thread-pool threads to wake.
/// Measured here (2 cores): Parallel.For over 8 parts of 2 us each took 12-40 us a call, waking its workers.
/// </summary>
/// <remarks>
/// One job runs at a time: a call made while another thread's job runs (tests on several threads) goes to Parallel.For,
/// and a call from inside a part runs its parts on the calling thread. Parts are claimed one at a time, so which thread
/// runs a part varies; results that depend only on each part's own work are the same on every run. The first exception
/// a part throws is rethrown to the caller (as itself) once every part has finished.
/// </remarks>
internal static class CpuWorkers
{
    // How long an idle worker spins before it sleeps: longer than the gaps between one pass's steps.
    private static readonly long SpinTicks = Stopwatch.Frequency / 1000;

    private static readonly int s_workers = Math.Max(0, Environment.ProcessorCount - 1);
    private static readonly SemaphoreSlim s_wake = new(0);
    private static readonly Lock s_start = new();
    private static bool s_started;
    private static int s_busy;
    private static int s_sleeping;
    private static long s_generation;
    private static Job? s_job;

    [ThreadStatic] private static bool t_inside;

    /// <summary>Runs <paramref name="part"/>(0 .. <paramref name="parts"/> - 1), each once, on the calling thread and the workers.</summary>
    public static void For(int parts, Action<int> part)
    {
        if (parts <= 0) return;
        if (parts == 1 || t_inside)
        {
            for (int i = 0; i < parts; i++) part(i);
            return;
        }
        if (s_workers == 0 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            Fallback(parts, part);
            return;
        }
        var job = new Job(part, parts);
        try
        {
            Start();
            Volatile.Write(ref s_job, job);
            Interlocked.Increment(ref s_generation);
            int sleeping = Volatile.Read(ref s_sleeping);
            if (sleeping > 0) s_wake.Release(sleeping);
            job.Work();
            // The last parts may still run on a worker (or wait for a core): spin, then yield.
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Done) < parts) spin.SpinOnce(sleep1Threshold: -1);
        }
        finally
        {
            Volatile.Write(ref s_job, null);
            Volatile.Write(ref s_busy, 0);
        }
        if (job.Failure is { } failure) ExceptionDispatchInfo.Throw(failure);
    }

    // Parallel.For with the same exception contract (the first failure, unwrapped).
    private static void Fallback(int parts, Action<int> part)
    {
        Exception? failure = null;
        Parallel.For(0, parts, i =>
        {
            try
            {
                part(i);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref failure, exception, null);
            }
        });
        if (failure is not null) ExceptionDispatchInfo.Throw(failure);
    }

    private static void Start()
    {
        if (Volatile.Read(ref s_started)) return;
        lock (s_start)
        {
            if (s_started) return;
            for (int i = 0; i < s_workers; i++)
                new Thread(Run) { IsBackground = true, Name = $"GpuDeconv CPU worker {i + 1}" }.Start();
            Volatile.Write(ref s_started, true);
        }
    }

    private static void Run()
    {
        long seen = Volatile.Read(ref s_generation);
        while (true)
        {
            long idleSince = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref s_generation) == seen)
            {
                if (Stopwatch.GetTimestamp() - idleSince < SpinTicks)
                {
                    Thread.SpinWait(32);
                    continue;
                }
                // Counted as sleeping before the last look, so that a job posted after it releases the semaphore.
                Interlocked.Increment(ref s_sleeping);
                if (Volatile.Read(ref s_generation) == seen) s_wake.Wait();
                Interlocked.Decrement(ref s_sleeping);
                idleSince = Stopwatch.GetTimestamp();
            }
            seen = Volatile.Read(ref s_generation);
            Volatile.Read(ref s_job)?.Work();
        }
    }

    private sealed class Job(Action<int> part, int parts)
    {
        public int Done;
        public Exception? Failure;
        private int _next;

        // Claims and runs parts until none are left.
        public void Work()
        {
            t_inside = true;
            try
            {
                for (int i = Interlocked.Increment(ref _next) - 1; i < parts; i = Interlocked.Increment(ref _next) - 1)
                {
                    try
                    {
                        part(i);
                    }
                    catch (Exception exception)
                    {
                        Interlocked.CompareExchange(ref Failure, exception, null);
                    }
                    Interlocked.Increment(ref Done);
                }
            }
            finally
            {
                t_inside = false;
            }
        }
    }
}
