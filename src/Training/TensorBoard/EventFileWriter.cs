using System.Globalization;
using Google.Protobuf;
using GpuDeconv.Training.Proto;

namespace GpuDeconv.Training;

/// <summary>
/// Appends <see cref="Event"/> records to a new TensorBoard event file
/// <c>events.out.tfevents.&lt;10-digit Unix seconds&gt;.&lt;host&gt;.&lt;pid&gt;.&lt;counter&gt;</c> in one directory.
/// </summary>
/// <remarks>
/// Crash safety, following docs/reference/tensorboard-format.md section 5: the file is created with <see cref="FileMode.CreateNew"/>
/// and never reopened, so a restarted run gets a new file and an old one is never appended to; its name
/// sorts after every event file already in the directory (TensorBoard reads a run's files in name order);
/// every record goes to the stream in one write; the first record (<c>brain.Event:2</c>) is flushed at once;
/// the file is flushed to disk on a timer, on <see cref="Flush"/> and on <see cref="Dispose"/>.
/// A cut file still yields every whole record before the cut. After an I/O error the writer refuses further
/// records, so nothing is appended after a record that may be torn. All members are thread-safe.
/// </remarks>
public sealed class EventFileWriter : IDisposable
{
    /// <summary>The file version TensorBoard needs in the first record to purge only on <c>SessionLog.START</c>.</summary>
    public const string FileVersion = "brain.Event:2";

    /// <summary>How often buffered records reach the disk when the constructor is given no interval.</summary>
    public static readonly TimeSpan DefaultFlushInterval = TimeSpan.FromSeconds(10);

    const string NamePrefix = "events.out.tfevents.";

    // Serialises file creation in this process, so that two writers created in the same second
    // see each other's files and get names that sort in creation order.
    static readonly Lock CreationLock = new();
    static int s_counter;

    readonly Lock _lock = new();
    readonly FileStream _stream;
    readonly Timer? _timer;
    bool _dirty;
    bool _disposed;
    Exception? _fault;

    /// <summary>Creates the directory if needed and a new event file in it, and writes and flushes the <c>brain.Event:2</c> record.</summary>
    /// <param name="directory">The run directory.</param>
    /// <param name="flushInterval">How often written records are flushed to disk; <see cref="Timeout.InfiniteTimeSpan"/> flushes only on demand and on dispose. Default 10 s.</param>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty, or <paramref name="flushInterval"/> is neither positive nor infinite.</exception>
    /// <exception cref="IOException">The directory or the file cannot be created or written.</exception>
    public EventFileWriter(string directory, TimeSpan? flushInterval = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        TimeSpan interval = flushInterval ?? DefaultFlushInterval;
        if (interval <= TimeSpan.Zero && interval != Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(flushInterval), interval,
                "EventFileWriter: the flush interval must be positive or Timeout.InfiniteTimeSpan.");

        Directory.CreateDirectory(directory);
        (_stream, FilePath) = CreateFile(Path.GetFullPath(directory));
        try
        {
            Write(new Event { WallTime = UnixSecondsNow(), FileVersion = FileVersion });
            Flush();
        }
        catch
        {
            _stream.Dispose();
            throw;
        }
        if (interval != Timeout.InfiniteTimeSpan)
            _timer = new Timer(static state => ((EventFileWriter)state!).FlushFromTimer(), this, interval, interval);
    }

    /// <summary>The full path of the event file.</summary>
    public string FilePath { get; }

    /// <summary>Seconds since the Unix epoch, with sub-second precision, as event wall times hold them.</summary>
    public static double UnixSecondsNow() =>
        (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;

    /// <summary>Appends <paramref name="evt"/> as one framed record (buffered until the next flush).</summary>
    /// <exception cref="ArgumentException">The event's wall time is NaN or infinite (TensorBoard would mark the file dead).</exception>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="InvalidOperationException">An earlier write or flush failed; the inner exception says how.</exception>
    /// <exception cref="IOException">The write failed; the writer refuses further records.</exception>
    public void Write(Event evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (!double.IsFinite(evt.WallTime))
            throw new ArgumentException(
                $"EventFileWriter: wall_time is {evt.WallTime.ToString(CultureInfo.InvariantCulture)}, but must be a finite number of seconds (TensorBoard stops reading a file at a NaN wall_time).",
                nameof(evt));
        byte[] record = RecordWriter.Frame(evt.ToByteArray());
        lock (_lock)
        {
            ThrowIfUnusable();
            try
            {
                _stream.Write(record);
                _dirty = true;
            }
            catch (Exception e)
            {
                _fault = e;
                throw;
            }
        }
    }

    /// <summary>Writes buffered records to the file and the file to disk (fsync).</summary>
    /// <exception cref="ObjectDisposedException">The writer is disposed.</exception>
    /// <exception cref="InvalidOperationException">An earlier write or flush failed; the inner exception says how.</exception>
    /// <exception cref="IOException">The flush failed; the writer refuses further records.</exception>
    public void Flush()
    {
        lock (_lock)
        {
            ThrowIfUnusable();
            FlushLocked();
        }
    }

    /// <summary>Stops the timer, flushes everything to disk and closes the file.</summary>
    /// <exception cref="IOException">The final flush failed (the file is closed anyway).</exception>
    public void Dispose()
    {
        _timer?.Dispose();
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            try
            {
                if (_fault is null)
                    FlushLocked();
            }
            finally
            {
                // After a fault the buffer may hold the rest of a torn record; dropping it keeps the
                // file readable up to the last whole record instead of risking a write error here.
                try { _stream.Dispose(); }
                catch (IOException) when (_fault is not null) { }
            }
        }
    }

    void FlushLocked()
    {
        try
        {
            _stream.Flush(flushToDisk: true);
            _dirty = false;
        }
        catch (Exception e)
        {
            _fault = e;
            throw;
        }
    }

    void FlushFromTimer()
    {
        lock (_lock)
        {
            if (_disposed || _fault is not null || !_dirty)
                return;
            try
            {
                FlushLocked();
            }
            catch (Exception)
            {
                // A timer thread must not throw (it would end the process); the fault is kept and
                // rethrown by the next Write or Flush.
            }
        }
    }

    void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault is not null)
            throw new InvalidOperationException(
                $"EventFileWriter: an earlier write or flush of '{FilePath}' failed, so no more records are written to it (they could follow a torn record). Create a new writer to continue in a new file.",
                _fault);
    }

    static (FileStream Stream, string Path) CreateFile(string directory)
    {
        string host = SanitizeHost(Environment.MachineName);
        int pid = Environment.ProcessId;
        lock (CreationLock)
        {
            // The seconds field is the creation time, unless a file in the directory already carries
            // that second or a later one (a restart within the same second, or a clock that went back):
            // then it is one past the newest, so that the new file sorts after every old one.
            long seconds = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), NewestSecondsIn(directory) + 1);
            for (int attempt = 0; ; attempt++)
            {
                int counter = Interlocked.Increment(ref s_counter);
                string path = Path.Combine(directory,
                    string.Create(CultureInfo.InvariantCulture, $"{NamePrefix}{seconds:D10}.{host}.{pid}.{counter}"));
                try
                {
                    // CreateNew: an existing file is never opened, let alone appended to or truncated.
                    var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read,
                        bufferSize: 64 * 1024);
                    return (stream, path);
                }
                catch (IOException) when (File.Exists(path) && attempt < 100)
                {
                    // Another process with our pid (a container restart) made this name; take the next counter.
                }
            }
        }
    }

    // The largest Unix-seconds field among event files in the directory, or -1 when there are none.
    static long NewestSecondsIn(string directory)
    {
        long newest = -1;
        foreach (string path in Directory.EnumerateFiles(directory, NamePrefix + "*"))
        {
            ReadOnlySpan<char> name = Path.GetFileName(path.AsSpan());
            if (name.Length >= NamePrefix.Length + 10
                && long.TryParse(name.Slice(NamePrefix.Length, 10), NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
                newest = Math.Max(newest, seconds);
        }
        return newest;
    }

    static string SanitizeHost(string host)
    {
        // The host name is part of a file name; keep it to characters every file system accepts.
        Span<char> chars = host.Length <= 256 ? stackalloc char[host.Length] : new char[host.Length];
        for (int i = 0; i < host.Length; i++)
            chars[i] = char.IsAsciiLetterOrDigit(host[i]) || host[i] is '-' or '_' ? host[i] : '_';
        return chars.Length == 0 ? "localhost" : new string(chars);
    }
}
