using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace GpuDeconv.Layers;

/// <summary>The dimensions of a dense, row-major tensor (for images NHWC, for filters HWIO); prints as <c>[128, 24, 24, 3]</c>.</summary>
/// <remarks>A collection expression makes one: <c>Shape s = [128, 24, 24, 3];</c>.</remarks>
[CollectionBuilder(typeof(Shape), nameof(Create))]
public sealed class Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[] _dims;

    /// <summary>Creates a shape from its dimensions (copied).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public Shape(params ReadOnlySpan<int> dims)
    {
        _dims = dims.ToArray();
        long size = 1;
        for (int i = 0; i < _dims.Length; i++)
        {
            if (_dims[i] < 0)
                throw new ArgumentException($"Shape {Format(_dims)}: dimension {i} is {_dims[i]}; dimensions must be zero or positive.", nameof(dims));
            size = checked(size * _dims[i]);
        }
        Size = size;
    }

    /// <summary>A copy of the dimensions.</summary>
    public int[] Dims => (int[])_dims.Clone();

    /// <summary>The number of dimensions.</summary>
    public int Rank => _dims.Length;

    /// <summary>The number of dimensions (as a collection).</summary>
    public int Count => _dims.Length;

    /// <summary>Creates a shape from its dimensions (the collection-expression builder).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Shape Create(ReadOnlySpan<int> dims) => new(dims);

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)_dims).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The number of elements (the product of the dimensions; 1 for rank 0).</summary>
    public long Size { get; }

    /// <summary>The size of dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis] => _dims[axis < 0 ? axis + _dims.Length : axis];

    /// <summary>The dimensions as a span (no copy).</summary>
    public ReadOnlySpan<int> AsSpan() => _dims;

    /// <summary>Converts an array of dimensions to a shape.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);

    /// <inheritdoc/>
    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Shape);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int d in _dims) hash.Add(d);
        return hash.ToHashCode();
    }

    /// <summary>Shapes with the same dimensions are equal.</summary>
    public static bool operator ==(Shape? left, Shape? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Shapes with different dimensions are unequal.</summary>
    public static bool operator !=(Shape? left, Shape? right) => !(left == right);

    /// <inheritdoc/>
    public override string ToString() => Format(_dims);

    /// <summary>Formats dimensions as <c>[a, b, c]</c>.</summary>
    public static string Format(ReadOnlySpan<int> dims)
    {
        var parts = new string[dims.Length];
        for (int i = 0; i < dims.Length; i++) parts[i] = dims[i].ToString(CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }
}
