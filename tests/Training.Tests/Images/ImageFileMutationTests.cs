using System.Buffers.Binary;
using Xunit;

namespace GpuDeconv.Training.Tests;

/// <summary>
/// Image files as untrusted input (<see cref="FileMutator"/>): every truncated, bit-flipped or size-corrupted variant of a
/// valid PNG, JPEG, WebP or BMP file is decoded or refused with an <see cref="InvalidDataException"/>, and no decode
/// allocates more than the pixel limit allows (1 megapixel here: 10 bytes a pixel at most, with an EXIF turn).
/// </summary>
public class ImageFileMutationTests
{
    private static readonly ImageLimits Limits = new() { MaxPixels = 1 << 20 };

    [Theory]
    [InlineData("png")]
    [InlineData("png-gray")]
    [InlineData("jpeg")]
    [InlineData("jpeg-exif")]
    [InlineData("webp")]
    [InlineData("bmp")]
    public void EveryMutantIsDecodedOrRefused(string format)
    {
        var image = ImageFiles.Blocks(24, 20, block: 3);
        var (valid, fields) = format switch
        {
            "png" => Png(image.EncodePng()),
            "png-gray" => Png(new ByteImage([.. image.Pixels.Where((_, i) => i % 3 == 0)], 24, 20, 1).EncodePng()),
            "jpeg" => Jpeg(ImageFiles.Jpeg(image)),
            "jpeg-exif" => Jpeg(ImageFiles.WithExifOrientation(ImageFiles.Jpeg(image), 6)),     // through the orientation code
            "webp" => (ImageFiles.WebpLossless(image), [new(4, 4, false), new(16, 4, false)]),     // RIFF size, VP8L chunk size
            _ => (ImageFiles.Bmp(image), BmpFields),
        };
        Func<byte[], byte[]>? repair = format.StartsWith("png", StringComparison.Ordinal) ? ImageFiles.WithCrcsFixed : null;

        var outcome = FileMutator.Check(valid, count: 2500, seed: format.Length * 7 + format[0], mutant => ImageFile.Decode(mutant.Bytes, "mutant." + format, Limits),
            e => e is InvalidDataException, maxAllocatedBytes: 10 * Limits.MaxPixels + (1 << 20), maxCaseTime: TimeSpan.FromSeconds(5), fields, repair);

        TestContext.Current.SendDiagnosticMessage($"{format}: {outcome}");
    }

    // Every chunk's length, and IHDR's width and height (big-endian).
    private static (byte[], NumericField[]) Png(byte[] png) =>
        (png, [.. ImageFiles.ChunkOffsets(png).Select(at => new NumericField(at, 4, true)), new(16, 4, true), new(20, 4, true)]);

    // Each marker segment's length, and the frame's height and width (SOFn: length, precision, height, width; big-endian).
    private static (byte[], NumericField[]) Jpeg(byte[] jpeg)
    {
        var fields = new List<NumericField>();
        for (int at = 2; at + 4 <= jpeg.Length && jpeg[at] == 0xFF;)
        {
            byte marker = jpeg[at + 1];
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(at + 2));
            fields.Add(new(at + 2, 2, true));
            if (marker is >= 0xC0 and <= 0xC3) fields.AddRange([new(at + 5, 2, true), new(at + 7, 2, true)]);
            if (marker == 0xDA) break;      // the entropy-coded data follows the start of scan
            at += 2 + length;
        }
        return (jpeg, [.. fields]);
    }

    // File size, pixel offset, header size, width, height, bits per pixel, compression, image size, colours used (little-endian).
    private static readonly NumericField[] BmpFields =
        [new(2, 4, false), new(10, 4, false), new(14, 4, false), new(18, 4, false), new(22, 4, false), new(28, 2, false), new(30, 4, false), new(34, 4, false), new(46, 4, false)];
}
