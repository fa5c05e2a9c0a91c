using System.Diagnostics;
using System.Text;
using Xunit;

namespace GpuDeconv.Testing;

/// <summary>A number a file format stores in binary: a length, a count, a size, a dimension or a label.</summary>
/// <param name="Offset">Where it starts in the valid file.</param>
/// <param name="Size">1, 2, 4 or 8 bytes.</param>
/// <param name="BigEndian">Byte order (PNG, JPEG and IDX are big-endian; BMP, WebP and safetensors little-endian).</param>
public readonly record struct NumericField(int Offset, int Size, bool BigEndian);

/// <summary>One variant of a valid file: its number, how it was made (enough to rebuild it) and its bytes.</summary>
public sealed record Mutant(int Index, string Description, byte[] Bytes);

/// <summary>How a reader met a run of mutants: how many it read, how many it refused with its documented exception, and its worst case.</summary>
public sealed record MutationOutcome(int Cases, int Read, int Refused, long MostAllocatedBytes, TimeSpan Slowest);

/// <summary>
/// Mutation tests for readers of outside files (IDX, CIFAR-10, safetensors, images, and whatever reads files next): seeded
/// variants of a valid file, truncated, bit-flipped, overwritten with edge values, with their binary length and count fields
/// or decimal numbers corrupted, and grown or shrunk, each of which the reader must read or refuse with its documented
/// exception, allocating and taking no more than a bound.
/// </summary>
/// <remarks>
/// Mutant <c>i</c> of a seed is a function of (valid file, seed, i) alone, so a failure names the one case to rerun
/// (<see cref="Mutate"/>). Allocation is counted with <see cref="GC.GetAllocatedBytesForCurrentThread"/>, so native
/// memory a reader's library takes is not; time is measured per case and the whole run is abandoned, naming the case it
/// was in, when it takes longer than <c>count x maxCaseTime</c> (a hang).
/// </remarks>
public static class FileMutator
{
    /// <summary>Edge values written over single bytes.</summary>
    private static readonly byte[] EdgeBytes = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF];

    /// <summary>Decimal numbers written over the digits of a text header (JSON offsets, shapes).</summary>
    private static readonly string[] EdgeNumbers =
        ["0", "1", "-1", "2147483647", "2147483648", "4294967296", "9223372036854775807", "18446744073709551615", "1e400", "99999999999999999999999", "1.5"];

    /// <summary>
    /// The mutants 0 .. count - 1 of <paramref name="valid"/> for <paramref name="seed"/>; <paramref name="fields"/> are the
    /// format's binary numbers and <paramref name="tokens"/> its syntax (JSON's quotes, brackets and escapes), which some
    /// mutants insert or write over the file (as a fuzzer's dictionary).
    /// </summary>
    public static IEnumerable<Mutant> Mutants(byte[] valid, int count, int seed, IReadOnlyList<NumericField>? fields = null, IReadOnlyList<string>? tokens = null)
    {
        for (int i = 0; i < count; i++) yield return Mutate(valid, seed, i, fields, tokens);
    }

    /// <summary>Mutant <paramref name="index"/> of <paramref name="valid"/> for <paramref name="seed"/>: one or two mutations.</summary>
    public static Mutant Mutate(byte[] valid, int seed, int index, IReadOnlyList<NumericField>? fields = null, IReadOnlyList<string>? tokens = null)
    {
        ArgumentNullException.ThrowIfNull(valid);
        if (valid.Length == 0) throw new ArgumentException("FileMutator: the valid file is empty.", nameof(valid));
        var random = new Random(HashCode.Combine(seed, index, valid.Length));
        byte[] bytes = (byte[])valid.Clone();
        var what = new List<string>();
        int mutations = random.Next(4) == 0 ? 2 : 1;
        for (int m = 0; m < mutations && bytes.Length > 0; m++)
            bytes = MutateOnce(bytes, random, fields, tokens, what);
        return new Mutant(index, $"mutant {index} of seed {seed}: {string.Join("; ", what)}", bytes);
    }

    /// <summary>
    /// Runs <paramref name="read"/> on mutants 0 .. count - 1 and asserts that each one was read or refused with an
    /// exception <paramref name="documented"/> accepts, allocating at most <paramref name="maxAllocatedBytes"/> and taking at
    /// most <paramref name="maxCaseTime"/>; fails listing the first violations with their mutants. <paramref name="repair"/>,
    /// when given, is applied to every other mutant (to fix checksums, so mutations reach past a format's CRC check).
    /// </summary>
    public static MutationOutcome Check(byte[] valid, int count, int seed, Action<Mutant> read, Func<Exception, bool> documented,
        long maxAllocatedBytes, TimeSpan maxCaseTime, IReadOnlyList<NumericField>? fields = null, Func<byte[], byte[]>? repair = null,
        IReadOnlyList<string>? tokens = null)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(documented);
        var failures = new List<string>();
        int readCount = 0, refused = 0, current = -1;
        long most = 0;
        TimeSpan slowest = TimeSpan.Zero;
        void Loop()
        {
            for (int i = 0; i < count; i++)
            {
                Volatile.Write(ref current, i);
                var mutant = Mutate(valid, seed, i, fields, tokens);
                if (repair is not null && i % 2 == 1) mutant = mutant with { Bytes = repair(mutant.Bytes), Description = mutant.Description + "; checksums fixed" };
                long before = GC.GetAllocatedBytesForCurrentThread();
                var clock = Stopwatch.StartNew();
                Exception? thrown = null;
                try
                {
                    read(mutant);
                }
                catch (Exception e)
                {
                    thrown = e;
                }
                clock.Stop();
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                most = Math.Max(most, allocated);
                if (clock.Elapsed > slowest) slowest = clock.Elapsed;
                if (thrown is null) readCount++;
                else if (documented(thrown)) refused++;
                else failures.Add($"{mutant.Description} ({mutant.Bytes.Length} bytes): {thrown.GetType().Name}: {thrown.Message}\n{thrown.StackTrace}");
                if (allocated > maxAllocatedBytes)
                    failures.Add($"{mutant.Description} ({mutant.Bytes.Length} bytes): allocated {allocated} bytes, more than the bound of {maxAllocatedBytes}");
                if (clock.Elapsed > maxCaseTime)
                    failures.Add($"{mutant.Description} ({mutant.Bytes.Length} bytes): took {clock.Elapsed.TotalMilliseconds:F0} ms, more than {maxCaseTime.TotalMilliseconds:F0} ms");
            }
        }

        // A thread of its own: a reader that never returns fails the test (naming its mutant) instead of hanging it.
        var worker = new Thread(Loop) { IsBackground = true, Name = "FileMutator" };
        worker.Start();
        if (!worker.Join(maxCaseTime * Math.Max(count, 1) + TimeSpan.FromSeconds(30)))
            Assert.Fail($"the reader did not return: {Mutate(valid, seed, Volatile.Read(ref current), fields, tokens).Description} is still running");
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {count} mutants broke the reader's contract; the first ones:\n" + string.Join("\n\n", failures.Take(8)));
        // The mutants must do something: most of them should be refused.
        Assert.True(refused > count / 4, $"only {refused} of {count} mutants were refused; the mutations do not reach the reader");
        return new MutationOutcome(count, readCount, refused, most, slowest);
    }

    private static byte[] MutateOnce(byte[] bytes, Random random, IReadOnlyList<NumericField>? fields, IReadOnlyList<string>? tokens, List<string> what)
    {
        int n = bytes.Length;
        if (tokens is { Count: > 0 } && random.Next(5) == 0)
        {
            // A token of the format's syntax inserted, or written over what was there.
            string token = tokens[random.Next(tokens.Count)];
            byte[] encoded = Encoding.UTF8.GetBytes(token);
            int at = random.Next(n + 1);
            bool insert = random.Next(2) == 0 || at + encoded.Length > n;
            what.Add($"{(insert ? "inserted" : "written")} token {token} at {at}");
            return insert ? [.. bytes.AsSpan(0, at), .. encoded, .. bytes.AsSpan(at)] : [.. bytes.AsSpan(0, at), .. encoded, .. bytes.AsSpan(at + encoded.Length)];
        }
        switch (random.Next(100))
        {
            case < 20:
            {
                // Truncation, a third of them inside the first 64 bytes (the header).
                int length = random.Next(3) == 0 ? random.Next(Math.Min(n, 64)) : random.Next(n);
                what.Add($"truncated to {length} bytes");
                return bytes[..length];
            }
            case < 45:
            {
                int flips = 1 + random.Next(random.Next(4) == 0 ? 16 : 3);
                var flipped = new List<string>();
                for (int k = 0; k < flips; k++)
                {
                    int at = random.Next(n), bit = random.Next(8);
                    bytes[at] ^= (byte)(1 << bit);
                    flipped.Add($"{at}.{bit}");
                }
                what.Add($"bits flipped at {string.Join(", ", flipped)}");
                return bytes;
            }
            case < 55:
            {
                int count = 1 + random.Next(4);
                var set = new List<string>();
                for (int k = 0; k < count; k++)
                {
                    int at = random.Next(n);
                    bytes[at] = random.Next(3) == 0 ? (byte)random.Next(256) : EdgeBytes[random.Next(EdgeBytes.Length)];
                    set.Add($"{at}=0x{bytes[at]:X2}");
                }
                what.Add($"bytes set {string.Join(", ", set)}");
                return bytes;
            }
            case < 75:
                return CorruptNumber(bytes, random, fields, what);
            case < 82:
                return CorruptDecimal(bytes, random, what) ?? CorruptNumber(bytes, random, fields, what);
            default:
                return Resize(bytes, random, what);
        }
    }

    // A binary number (a declared field that is still whole, or any 4 bytes) set to an edge or a nearby value.
    private static byte[] CorruptNumber(byte[] bytes, Random random, IReadOnlyList<NumericField>? fields, List<string> what)
    {
        var usable = fields?.Where(f => f.Offset >= 0 && f.Offset + f.Size <= bytes.Length).ToList();
        NumericField field = usable is { Count: > 0 }
            ? usable[random.Next(usable.Count)]
            : new NumericField(random.Next(Math.Max(1, bytes.Length - 3)), Math.Min(4, bytes.Length), random.Next(2) == 0);
        if (field.Offset + field.Size > bytes.Length) field = field with { Size = bytes.Length - field.Offset };
        Span<byte> span = bytes.AsSpan(field.Offset, field.Size);
        ulong old = Read(span, field.BigEndian);
        ulong mask = field.Size >= 8 ? ulong.MaxValue : (1UL << (8 * field.Size)) - 1;
        ulong value = random.Next(9) switch
        {
            0 => 0,
            1 => 1,
            2 => mask,                                      // -1, or the largest unsigned value
            3 => mask >> 1,                                 // the largest signed value
            4 => (mask >> 1) + 1,                           // the smallest signed value
            5 => old + (ulong)(random.Next(2) == 0 ? 1 : -1),
            6 => old * 2 + (ulong)random.Next(2),
            7 => old ^ (1UL << random.Next(8 * field.Size)),
            _ => old + (1UL << random.Next(8 * field.Size)),
        } & mask;
        Write(span, value, field.BigEndian);
        what.Add($"{field.Size}-byte {(field.BigEndian ? "big" : "little")}-endian number at {field.Offset}: {old} -> {value}");
        return bytes;
    }

    // A run of ASCII digits (a number in a text header) replaced by an edge number; null when the file has none.
    private static byte[]? CorruptDecimal(byte[] bytes, Random random, List<string> what)
    {
        var runs = new List<(int Start, int Length)>();
        for (int i = 0; i < bytes.Length;)
        {
            if (!char.IsAsciiDigit((char)bytes[i])) { i++; continue; }
            int start = i;
            while (i < bytes.Length && char.IsAsciiDigit((char)bytes[i])) i++;
            runs.Add((start, i - start));
        }
        if (runs.Count == 0) return null;
        var (at, length) = runs[random.Next(runs.Count)];
        string number = EdgeNumbers[random.Next(EdgeNumbers.Length)];
        what.Add($"decimal {Encoding.ASCII.GetString(bytes, at, length)} at {at} -> {number}");
        return [.. bytes.AsSpan(0, at), .. Encoding.ASCII.GetBytes(number), .. bytes.AsSpan(at + length)];
    }

    // Bytes inserted, deleted, duplicated or appended: the lengths a file states stop matching its size.
    private static byte[] Resize(byte[] bytes, Random random, List<string> what)
    {
        int n = bytes.Length, at = random.Next(n + 1), length = 1 + random.Next(random.Next(3) == 0 ? 1024 : 32);
        switch (random.Next(4))
        {
            case 0:
            {
                var inserted = new byte[length];
                random.NextBytes(inserted);
                what.Add($"{length} random bytes inserted at {at}");
                return [.. bytes.AsSpan(0, at), .. inserted, .. bytes.AsSpan(at)];
            }
            case 1:
            {
                at = Math.Min(at, n - 1);
                length = Math.Min(length, n - at);
                what.Add($"{length} bytes deleted at {at}");
                return [.. bytes.AsSpan(0, at), .. bytes.AsSpan(at + length)];
            }
            case 2:
            {
                at = Math.Min(at, n - 1);
                length = Math.Min(length, n - at);
                what.Add($"{length} bytes at {at} repeated");
                return [.. bytes.AsSpan(0, at + length), .. bytes.AsSpan(at, length), .. bytes.AsSpan(at + length)];
            }
            default:
            {
                var tail = new byte[length];
                random.NextBytes(tail);
                what.Add($"{length} random bytes appended");
                return [.. bytes, .. tail];
            }
        }
    }

    private static ulong Read(ReadOnlySpan<byte> span, bool bigEndian)
    {
        ulong value = 0;
        for (int i = 0; i < span.Length; i++)
            value |= (ulong)span[bigEndian ? span.Length - 1 - i : i] << (8 * i);
        return value;
    }

    private static void Write(Span<byte> span, ulong value, bool bigEndian)
    {
        for (int i = 0; i < span.Length; i++)
            span[bigEndian ? span.Length - 1 - i : i] = (byte)(value >> (8 * i));
    }
}
