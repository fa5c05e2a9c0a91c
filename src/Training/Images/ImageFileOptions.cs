using GpuDeconv.Layers;

namespace GpuDeconv.Training;

/// <summary>
/// How large an image file may be, checked before anything is decoded: the file's length, and the width and height
/// its header claims (a few hundred bytes of PNG can claim 100000x100000 pixels, 40 GB once decoded).
/// </summary>
/// <remarks>
/// Decoding allocates 4 bytes a pixel for Skia's output and 3 for the RGB image (3 more when an EXIF orientation turns
/// it), so at the defaults one image takes at most about 640 MB while it is decoded, plus the file itself.
/// </remarks>
public sealed record ImageLimits
{
    /// <summary>16384 per side, 64 megapixels, 256 MiB files.</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>The largest width or height accepted (default 16384).</summary>
    public int MaxSide { get; init; } = 16384;

    /// <summary>The most pixels (width x height) accepted (default 64,000,000).</summary>
    public long MaxPixels { get; init; } = 64_000_000;

    /// <summary>The longest file accepted, in bytes (default 256 MiB).</summary>
    public long MaxFileBytes { get; init; } = 256L << 20;

    /// <summary>The limits that are not positive, named; empty when all are.</summary>
    internal IEnumerable<string> Problems()
    {
        // Decoding holds 4 bytes a pixel and the file in single arrays.
        if (MaxSide < 1) yield return $"ImageLimits.MaxSide must be at least 1, not {MaxSide}";
        if (MaxPixels < 1 || MaxPixels > Array.MaxLength / 4) yield return $"ImageLimits.MaxPixels must be 1 to {Array.MaxLength / 4}, not {MaxPixels}";
        if (MaxFileBytes < 1 || MaxFileBytes > Array.MaxLength) yield return $"ImageLimits.MaxFileBytes must be 1 to {Array.MaxLength}, not {MaxFileBytes}";
    }
}

/// <summary>
/// How <see cref="ImageFile.Load(string, ImageFileOptions?)"/> turns an image file into a model's input: decoded to RGB
/// (or gray), its shorter side resized, the centre cropped, then the model's preprocessing (<see cref="Input"/>).
/// </summary>
/// <remarks>
/// With the defaults the input is the whole image as RGB floats 0..255 (the byte values, TF's <c>decode_png</c> cast to
/// float). A ResNet-style pipeline is <c>new ImageFileOptions { ResizeShorterSide = 256, CenterCrop = (224, 224), Input = ... }</c>.
/// </remarks>
public sealed record ImageFileOptions
{
    /// <summary>The whole image, RGB, floats 0..255, default limits.</summary>
    public static ImageFileOptions Default { get; } = new();

    /// <summary>Resize (antialiased bilinear, <see cref="ByteImage.ResizeShorterSide"/>) so the shorter side has this many pixels; null: keep the size.</summary>
    public int? ResizeShorterSide { get; init; }

    /// <summary>Keep the central height x width pixels after any resize (<see cref="ByteImage.CenterCrop"/>); null: keep the whole image.</summary>
    public (int Height, int Width)? CenterCrop { get; init; }

    /// <summary>3 for RGB (the default; gray files are copied to R, G and B), or 1 for gray (colour files become ITU-R 601 luma, as PIL's <c>convert("L")</c>).</summary>
    public int Channels { get; init; } = 3;

    /// <summary>
    /// The model's preprocessing for an image of the given [H, W, C] after resize and crop: bytes in, floats out. The
    /// default <see cref="Preprocess.Raw"/> gives 0..255; <see cref="Preprocess.Scale"/> gives [0, 1];
    /// <see cref="Preprocess.Standardized"/> is the TF tutorial's per-image standardisation; a fixed-size step such as
    /// <see cref="Preprocess.CifarEval"/> fits as <c>_ =&gt; Preprocess.CifarEval</c>; any other (a ResNet's BGR mean
    /// subtraction) is a <see cref="Preprocess"/> of your own.
    /// </summary>
    public Func<Shape, Preprocess> Input { get; init; } = Preprocess.Raw;

    /// <summary>The size limits checked before decoding.</summary>
    public ImageLimits Limits { get; init; } = ImageLimits.Default;

    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentException">A size is below 1, <see cref="Channels"/> is not 1 or 3, or a delegate or the limits are missing.</exception>
    internal void Check()
    {
        var problems = new List<string>();
        if (ResizeShorterSide is < 1) problems.Add($"ResizeShorterSide must be at least 1, not {ResizeShorterSide}");
        if (CenterCrop is { } crop && (crop.Height < 1 || crop.Width < 1)) problems.Add($"CenterCrop must be at least 1x1, not {crop.Height}x{crop.Width}");
        if (Channels is not (1 or 3)) problems.Add($"Channels must be 1 (gray) or 3 (RGB), not {Channels}");
        if (Input is null) problems.Add("Input (the preprocessing) is missing");
        if (Limits is null) problems.Add("Limits is missing");
        else problems.AddRange(Limits.Problems());
        if (problems.Count > 0)
            throw new ArgumentException($"ImageFileOptions: {string.Join("; ", problems)}.", "options");
    }
}
