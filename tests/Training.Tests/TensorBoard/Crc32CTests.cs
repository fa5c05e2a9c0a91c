using System.Text;
using Xunit;

namespace GpuDeconv.Training.Tests;

public class Crc32CTests
{
    // docs/reference/tensorboard-format.md section 2: input, CRC-32C, masked. The masked rows marked † there are
    // copied from TensorBoard's Rust tests.
    public static TheoryData<string, uint, uint> Vectors => new()
    {
        { Hex(Encoding.ASCII.GetBytes("123456789")), 0xE3069283, 0xC78AB0E5 },
        { Hex(new byte[32]), 0x8A9136AA, 0x0FD7FFFA },
        { Hex(Enumerable.Repeat((byte)0xFF, 32).ToArray()), 0x62A8AB43, 0xF909B029 },
        { "", 0x00000000, 0xA282EAD8 },
        { "1A11" + Hex(Encoding.ASCII.GetBytes("CRC test, one two")), 0xF2D95A88, 0x5794D08A },
        { "1800000000000000", 0x4A65BFE4, 0x224B7FA3 },
        { "0000000000000000", 0x8C28B28A, 0x07980329 },
        { "0900008038 99D6D7411A0D".Replace(" ", "") + Hex(Encoding.ASCII.GetBytes("brain.Event:2")), 0xB01D0459, 0xAB364B12 },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void MatchesTheSpecVectors(string inputHex, uint crc, uint masked)
    {
        byte[] input = Convert.FromHexString(inputHex);
        Assert.Equal(crc, Crc32C.Compute(input));
        Assert.Equal(masked, Crc32C.Mask(crc));
        Assert.Equal(masked, Crc32C.ComputeMasked(input));
        Assert.Equal(crc, Crc32C.Unmask(masked));
        // The tests' own reader uses a bitwise CRC; it must agree with the same vectors.
        Assert.Equal(crc, EventFileReader.Crc32C(input));
        Assert.Equal(masked, EventFileReader.MaskedCrc(input));
    }

    [Fact]
    public void AgreesWithABitwiseCrcOnEveryLengthAndAlignment()
    {
        // The ulong path consumes 8 bytes at a time; lengths 0..40 at offsets 0..7 cover every tail.
        var random = new Random(5);
        var data = new byte[48];
        random.NextBytes(data);
        for (int offset = 0; offset < 8; offset++)
            for (int length = 0; length <= 40; length++)
            {
                ReadOnlySpan<byte> slice = data.AsSpan(offset, length);
                Assert.Equal(EventFileReader.Crc32C(slice), Crc32C.Compute(slice));
            }
    }

    [Fact]
    public void UnmaskInvertsMask()
    {
        var random = new Random(11);
        for (int i = 0; i < 1000; i++)
        {
            uint crc = (uint)random.NextInt64(0, 1L << 32);
            Assert.Equal(crc, Crc32C.Unmask(Crc32C.Mask(crc)));
        }
    }

    static string Hex(byte[] bytes) => Convert.ToHexString(bytes);
}
