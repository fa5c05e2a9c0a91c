using System.Buffers.Binary;
using System.Numerics;

namespace GpuDeconv.Training;

/// <summary>
/// CRC-32C (Castagnoli) and the LevelDB/TFRecord mask over it, as event files use them to frame records.
/// </summary>
/// <remarks>
/// <see cref="BitOperations.Crc32C(uint, byte)"/> is one raw update step (SSE4.2 <c>crc32</c> or ARM
/// <c>crc32c</c>, or a table step), with neither the initial nor the final inversion; both are added here.
/// </remarks>
public static class Crc32C
{
    // The mask keeps a CRC stored next to the data it covers from being a CRC of that data,
    // which would make CRCs of CRC-bearing data degenerate (LevelDB's rationale).
    const uint MaskDelta = 0xA282EAD8u;

    /// <summary>The CRC-32C of <paramref name="data"/> (reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF).</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        // Eight bytes per step in little-endian order, which is how the ulong overload consumes them.
        while (data.Length >= sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }
        foreach (byte b in data)
            crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    /// <summary>The masked form of <paramref name="crc"/>: rotate right by 15, then add 0xA282EAD8.</summary>
    public static uint Mask(uint crc) => unchecked(BitOperations.RotateRight(crc, 15) + MaskDelta);

    /// <summary>The CRC that <see cref="Mask"/> turned into <paramref name="masked"/>.</summary>
    public static uint Unmask(uint masked) => BitOperations.RotateLeft(unchecked(masked - MaskDelta), 15);

    /// <summary>The masked CRC-32C of <paramref name="data"/>, as stored in a TFRecord.</summary>
    public static uint ComputeMasked(ReadOnlySpan<byte> data) => Mask(Compute(data));
}
