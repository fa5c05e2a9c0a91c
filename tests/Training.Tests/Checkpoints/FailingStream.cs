namespace GpuDeconv.Training.Tests;

/// <summary>Passes writes through to <paramref name="inner"/> until <paramref name="failAfter"/> bytes have gone by, then throws,
/// as a crash, a full disk or a pulled cable would part-way through a save.</summary>
internal sealed class FailingStream(Stream inner, long failAfter) : Stream
{
    private long _written;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _written; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        long room = failAfter - _written;
        if (buffer.Length > room)
        {
            // Let through what fits, so the temporary file really holds a partial checkpoint when the failure comes.
            inner.Write(buffer[..(int)Math.Max(room, 0)]);
            inner.Flush();
            _written = failAfter;
            throw new IOException($"simulated failure after {failAfter} bytes");
        }
        inner.Write(buffer);
        _written += buffer.Length;
    }

    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
