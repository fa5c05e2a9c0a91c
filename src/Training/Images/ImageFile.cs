using GpuDeconv.Layers;
using SkiaSharp;

namespace GpuDeconv.Training;

/// <summary>One image file made ready for a model.</summary>
/// <param name="Name">The file's path (or the name given with a stream), as errors name it.</param>
/// <param name="Format">PNG, JPEG, WebP or BMP.</param>
/// <param name="FileHeight">The image's height in the file, upright (after its EXIF orientation), before any resize.</param>
/// <param name="FileWidth">The image's width in the file, upright (after its EXIF orientation), before any resize.</param>
/// <param name="Image">The image after resize and crop, before the preprocessing: what the model sees, for display.</param>
/// <param name="Input">The model's input: [1, H, W, C] floats (NHWC) from <see cref="ImageFileOptions.Input"/>.</param>
public sealed record LoadedImage(string Name, string Format, int FileHeight, int FileWidth, ByteImage Image, HostArray Input);

/// <summary>
/// Reads image files (PNG, JPEG, WebP, BMP) through SkiaSharp as untrusted input: the file length and the size its
/// header claims are checked against <see cref="ImageLimits"/> before any pixel is decoded, and a truncated, damaged or
/// foreign file is an <see cref="InvalidDataException"/> naming the file, what is wrong and what was expected.
/// </summary>
/// <remarks>
/// Pixels come out as 8-bit RGB: gray files are copied to R, G and B, palettes expanded, 16-bit samples reduced to 8
/// bits, and alpha dropped (the colours as stored, not blended over a background, as PIL's <c>convert("RGB")</c>).
/// No colour profile is applied (the stored values, as TF and PIL read them). The EXIF orientation of JPEG and WebP
/// files is applied, so a phone's portrait photo comes out upright. Animated files give their first frame.
/// </remarks>
public static class ImageFile
{
    /// <summary>The file name extensions <see cref="LoadFolder"/> takes as images (compared ignoring case).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".webp", ".bmp"];

    private const string Formats = "PNG, JPEG, WebP or BMP";

    /// <summary>Decodes the image file at <paramref name="path"/> to 8-bit RGB.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is empty, truncated, damaged, not a PNG, JPEG, WebP or BMP image, or over <paramref name="limits"/>; the message names the file.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or a limit is not positive.</exception>
    public static ByteImage Decode(string path, ImageLimits? limits = null) => DecodeFile(path, Check(limits)).Image;

    /// <summary>Decodes the image file read from <paramref name="stream"/> (from its position to its end) to 8-bit RGB; <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">As for <see cref="Decode(string, ImageLimits?)"/>; a stream longer than <see cref="ImageLimits.MaxFileBytes"/> is read no further.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or a limit is not positive.</exception>
    public static ByteImage Decode(Stream stream, string name, ImageLimits? limits = null) => DecodeStream(stream, name, Check(limits)).Image;

    /// <summary>Decodes an image file held in memory to 8-bit RGB; <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">As for <see cref="Decode(string, ImageLimits?)"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or a limit is not positive.</exception>
    public static ByteImage Decode(ReadOnlySpan<byte> file, string name, ImageLimits? limits = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var checkedLimits = Check(limits);
        CheckLength(name, file.Length, checkedLimits);
        using var data = SKData.CreateCopy(file);
        return Decode(data, name, checkedLimits).Image;
    }

    /// <summary>Reads the image file at <paramref name="path"/> and prepares it as <paramref name="options"/> say (decode, resize, crop, preprocess).</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable image within the limits, is smaller than the crop, or does not fit the preprocessing's input shape; the message names the file.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or an option is out of range.</exception>
    public static LoadedImage Load(string path, ImageFileOptions? options = null)
    {
        options ??= ImageFileOptions.Default;
        options.Check();
        var (image, format) = DecodeFile(path, options.Limits);
        return Prepare(image, path, format, options);
    }

    /// <summary>As <see cref="Load(string, ImageFileOptions?)"/>, for a file read from <paramref name="stream"/>; <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">As for <see cref="Load(string, ImageFileOptions?)"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or an option is out of range.</exception>
    public static LoadedImage Load(Stream stream, string name, ImageFileOptions? options = null)
    {
        options ??= ImageFileOptions.Default;
        options.Check();
        var (image, format) = DecodeStream(stream, name, options.Limits);
        return Prepare(image, name, format, options);
    }

    /// <summary>As <see cref="Load(string, ImageFileOptions?)"/>, for a file held in memory; <paramref name="name"/> names it in errors.</summary>
    /// <exception cref="InvalidDataException">As for <see cref="Load(string, ImageFileOptions?)"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or an option is out of range.</exception>
    public static LoadedImage Load(ReadOnlySpan<byte> file, string name, ImageFileOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        options ??= ImageFileOptions.Default;
        options.Check();
        CheckLength(name, file.Length, options.Limits);
        using var data = SKData.CreateCopy(file);
        var (image, format) = Decode(data, name, options.Limits);
        return Prepare(image, name, format, options);
    }

    /// <summary>
    /// Every image file directly in <paramref name="directory"/>, in ordinal order of their names, prepared as
    /// <paramref name="options"/> say. Hidden files and files without an image extension (<see cref="Extensions"/>) are
    /// skipped and listed with the reason; a file with an image extension that cannot be read is an error.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">There is no such folder.</exception>
    /// <exception cref="InvalidDataException">An image file cannot be read or prepared; the message names it.</exception>
    /// <exception cref="ArgumentException"><paramref name="directory"/> is empty or an option is out of range.</exception>
    public static ImageFolder LoadFolder(string directory, ImageFileOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= ImageFileOptions.Default;
        options.Check();
        var (files, skipped) = ListFolder(directory);
        var images = files.Select(path => Load(path, options)).ToList();
        return new ImageFolder(Path.GetFullPath(directory), images, skipped);
    }

    /// <summary>
    /// The image files directly in <paramref name="directory"/> in ordinal order of their names (what
    /// <see cref="LoadFolder"/> loads), and the files it leaves out with the reason: hidden files and names without an
    /// image extension (<see cref="Extensions"/>).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">There is no such folder.</exception>
    public static (IReadOnlyList<string> Images, IReadOnlyList<SkippedFile> Skipped) ListFolder(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"ImageFile: there is no folder '{directory}' to load images from.");
        var images = new List<string>();
        var skipped = new List<SkippedFile>();
        foreach (string path in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            string file = Path.GetFileName(path), extension = Path.GetExtension(path);
            if (file.StartsWith('.'))
                skipped.Add(new SkippedFile(path, "a hidden file"));
            else if (!Extensions.Contains(extension, StringComparer.OrdinalIgnoreCase))
                skipped.Add(new SkippedFile(path, $"not an image file name ({(extension.Length > 0 ? extension : "no extension")}); images end in {string.Join(", ", Extensions)}"));
            else
                images.Add(path);
        }
        return (images, skipped);
    }

    private static LoadedImage Prepare(ByteImage decoded, string name, string format, ImageFileOptions options)
    {
        var image = ToChannels(decoded, options.Channels);
        if (options.ResizeShorterSide is { } side) image = image.ResizeShorterSide(side);
        if (options.CenterCrop is { } crop)
        {
            if (crop.Height > image.Height || crop.Width > image.Width)
                throw new InvalidDataException(
                    $"{name}: the image is {image.Height}x{image.Width}{(options.ResizeShorterSide is null ? "" : " after resizing")}, smaller than the {crop.Height}x{crop.Width} centre crop; " +
                    $"set ResizeShorterSide to at least {Math.Max(crop.Height, crop.Width)} so the crop fits.");
            image = image.CenterCrop(crop.Height, crop.Width);
        }
        var shape = new Shape(image.Height, image.Width, image.Channels);
        var preprocess = options.Input(shape)
            ?? throw new ArgumentException($"ImageFileOptions.Input gave no preprocessing for {shape}.", nameof(options));
        if (preprocess.Input != shape)
            throw new InvalidDataException(
                $"{name}: the image is {shape} (H, W, C) after decoding, resizing and cropping, but the preprocessing '{preprocess.Name}' takes {preprocess.Input}; " +
                "set ResizeShorterSide, CenterCrop and Channels to give that shape.");
        var output = preprocess.Output;
        var input = new float[output.Size];
        preprocess.Apply(image.Pixels, input, 0);
        return new LoadedImage(name, format, decoded.Height, decoded.Width, image, new HostArray(new Shape(1, output[0], output[1], output[2]), input));
    }

    private static ImageLimits Check(ImageLimits? limits)
    {
        limits ??= ImageLimits.Default;
        if (limits.Problems().FirstOrDefault() is { } problem)
            throw new ArgumentException($"ImageFile: {problem}.", nameof(limits));
        return limits;
    }

    private static (ByteImage Image, string Format) DecodeFile(string path, ImageLimits limits)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such image file.", path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        CheckLength(path, file.Length, limits);
        using var data = SKData.Create(file.Length)
            ?? throw new InsufficientMemoryException($"{path}: Skia could not allocate {file.Length} bytes for the file.");
        int read = file.ReadAtLeast(data.Span, data.Span.Length, throwOnEndOfStream: false);
        if (read < data.Span.Length)
            throw new InvalidDataException($"{path}: the file shrank from {data.Span.Length} to {read} bytes while it was read.");
        return Decode(data, path, limits);
    }

    private static (ByteImage Image, string Format) DecodeStream(Stream stream, string name, ImageLimits limits)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (stream.CanSeek)
        {
            // The length is known: checked, then read straight into Skia's memory.
            long length = stream.Length - stream.Position;
            CheckLength(name, length, limits);
            using var whole = SKData.Create(length)
                ?? throw new InsufficientMemoryException($"{name}: Skia could not allocate {length} bytes for the file.");
            int got = stream.ReadAtLeast(whole.Span, whole.Span.Length, throwOnEndOfStream: false);
            if (got < whole.Span.Length)
                throw new InvalidDataException($"{name}: the stream ended after {got} of the {length} bytes its length promised.");
            return Decode(whole, name, limits);
        }
        // Read one byte past the limit, so a longer stream is refused without reading it all.
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int read;
        while ((read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, limits.MaxFileBytes + 1 - buffer.Length))) > 0)
            buffer.Write(chunk, 0, read);
        CheckLength(name, buffer.Length, limits);
        using var data = SKData.CreateCopy(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        return Decode(data, name, limits);
    }

    private static void CheckLength(string name, long length, ImageLimits limits)
    {
        if (length == 0)
            throw new InvalidDataException($"{name}: the file is empty; expected a {Formats} image.");
        if (length > limits.MaxFileBytes)
            throw new InvalidDataException(
                $"{name}: the file is {length} bytes or more, over the limit of {limits.MaxFileBytes} bytes (ImageLimits.MaxFileBytes); expected a {Formats} image within the limits.");
    }

    private static (ByteImage Image, string Format) Decode(SKData data, string name, ImageLimits limits)
    {
        // The codec reads the header only: format, size and orientation, nothing decoded yet.
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out SKCodecResult opened);
        if (codec is null)
        {
            string? kind = Sniff(data.AsSpan());
            throw opened == SKCodecResult.IncompleteInput
                ? new InvalidDataException($"{name}: the file ends inside its {kind ?? "image"} header ({data.Size} bytes); it is truncated. Expected a whole {Formats} image.")
                : kind is not null
                    ? new InvalidDataException($"{name}: a damaged {kind} file: its header cannot be read (Skia: {opened}). Expected a valid {Formats} image.")
                    : new InvalidDataException($"{name}: not a {Formats} image (it starts with {Hex(data.AsSpan())}); the file is of another kind or damaged.");
        }
        string format = FormatName(codec.EncodedFormat)
            ?? throw new InvalidDataException($"{name}: a {Sniff(data.AsSpan()) ?? codec.EncodedFormat.ToString().ToUpperInvariant()} image; expected a {Formats} image (the formats GpuDeconv reads).");
        int width = codec.Info.Width, height = codec.Info.Height;
        long pixels = (long)width * height;
        if (width < 1 || height < 1)
            throw new InvalidDataException($"{name}: the {format} header says {width}x{height} pixels; expected at least 1x1.");
        if (width > limits.MaxSide || height > limits.MaxSide || pixels > limits.MaxPixels)
            throw new InvalidDataException(
                $"{name}: the {format} header says {width}x{height} pixels ({pixels} in all), over the limits of {limits.MaxSide} per side (ImageLimits.MaxSide) " +
                $"and {limits.MaxPixels} pixels (ImageLimits.MaxPixels); not decoded. Expected an image within the limits (it may be a decompression bomb).");

        // Unpremultiplied RGBA without a colour space: the stored colour values, converted by Skia from gray,
        // palette or 16-bit; the alpha is dropped below.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = GC.AllocateUninitializedArray<byte>(checked((int)(pixels * 4)));
        SKCodecResult decoded = codec.GetPixels(info, rgba);
        if (decoded != SKCodecResult.Success)
            throw decoded == SKCodecResult.IncompleteInput
                ? new InvalidDataException($"{name}: the {format} data ends before the {width}x{height} image is complete ({data.Size} bytes); the file is truncated or damaged.")
                : new InvalidDataException($"{name}: the {format} data of the {width}x{height} image is damaged (Skia: {decoded}); expected a valid {format} file.");

        return (Orient(ByteImage.FromRgba(rgba, height, width), codec.EncodedOrigin), format);
    }

    private static string? FormatName(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Png => "PNG",
        SKEncodedImageFormat.Jpeg => "JPEG",
        SKEncodedImageFormat.Webp => "WebP",
        SKEncodedImageFormat.Bmp => "BMP",
        _ => null,
    };

    /// <summary>The format the file's first bytes announce (their signatures), for error messages; null when none.</summary>
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47];

    private static ReadOnlySpan<byte> JpegSignature => [0xFF, 0xD8, 0xFF];

    private static string? Sniff(ReadOnlySpan<byte> data) =>
        data.StartsWith(PngSignature) ? "PNG"
        : data.StartsWith(JpegSignature) ? "JPEG"
        : data.Length >= 12 && data.StartsWith("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8) ? "WebP"
        : data.StartsWith("BM"u8) ? "BMP"
        : data.StartsWith("GIF8"u8) ? "GIF"
        : null;

    private static string Hex(ReadOnlySpan<byte> data)
    {
        var first = data[..Math.Min(8, data.Length)];
        return string.Join(" ", first.ToArray().Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture))) + (data.Length > first.Length ? " ..." : "");
    }

    /// <summary>The image turned upright by its EXIF orientation (TIFF 6.0 tag 274, values 1..8).</summary>
    internal static ByteImage Orient(ByteImage image, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft) return image;
        int h = image.Height, w = image.Width, c = image.Channels;
        bool swaps = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int outHeight = swaps ? w : h, outWidth = swaps ? h : w;
        var pixels = new byte[image.Pixels.Length];
        for (int oy = 0; oy < outHeight; oy++)
        {
            for (int ox = 0; ox < outWidth; ox++)
            {
                // The stored pixel shown at (ox, oy): "row 0 is the visual right side, column 0 the visual top" for
                // RightTop (6, a phone held upright), and likewise for the others.
                (int sx, int sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - ox, oy),
                    SKEncodedOrigin.BottomRight => (w - 1 - ox, h - 1 - oy),
                    SKEncodedOrigin.BottomLeft => (ox, h - 1 - oy),
                    SKEncodedOrigin.LeftTop => (oy, ox),
                    SKEncodedOrigin.RightTop => (oy, h - 1 - ox),
                    SKEncodedOrigin.RightBottom => (w - 1 - oy, h - 1 - ox),
                    SKEncodedOrigin.LeftBottom => (w - 1 - oy, ox),
                    _ => (ox, oy),
                };
                image.Pixels.AsSpan((sy * w + sx) * c, c).CopyTo(pixels.AsSpan((oy * outWidth + ox) * c));
            }
        }
        return new ByteImage(pixels, outHeight, outWidth, c);
    }

    /// <summary>RGB to gray (ITU-R 601 luma, rounded as PIL's <c>convert("L")</c>) or the other way (gray copied to R, G and B).</summary>
    private static ByteImage ToChannels(ByteImage image, int channels)
    {
        if (image.Channels == channels) return image;
        int count = image.Height * image.Width;
        var pixels = new byte[count * channels];
        var source = image.Pixels;
        for (int p = 0; p < count; p++)
        {
            if (channels == 1)
                pixels[p] = (byte)((source[3 * p] * 19595 + source[3 * p + 1] * 38470 + source[3 * p + 2] * 7471 + 0x8000) >> 16);
            else
                pixels[3 * p] = pixels[3 * p + 1] = pixels[3 * p + 2] = source[p];
        }
        return new ByteImage(pixels, image.Height, image.Width, channels);
    }
}
