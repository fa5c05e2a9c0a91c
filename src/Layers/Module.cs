using GpuDeconv.Kernels;

namespace GpuDeconv.Layers;

/// <summary>Float values on the host with their shape: what modules and optimizers export and import for checkpoints.</summary>
public sealed class HostArray
{
    /// <summary>Wraps <paramref name="data"/> (not copied), row-major, as an array of shape <paramref name="shape"/>.</summary>
    /// <exception cref="ArgumentException">The data length is not the shape's size.</exception>
    public HostArray(Shape shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (data.LongLength != shape.Size)
            throw new ArgumentException($"HostArray: {data.LongLength} values cannot fill shape {shape} ({shape.Size} elements).", nameof(data));
        Shape = shape;
        Data = data;
    }

    /// <summary>The dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>The values in row-major order (the array given to the constructor).</summary>
    public float[] Data { get; }

    /// <summary>Prints as <c>HostArray[5, 5, 3, 64]</c>.</summary>
    public override string ToString() => $"HostArray{Shape}";
}

/// <summary>
/// A layer or model: a tree of named parameters and child modules, as PyTorch's nn.Module. Subclasses register what
/// they own in their constructor; <see cref="NamedParameters"/> lists it depth-first in registration order with
/// '/'-separated paths (<c>conv1/weight</c>, <c>fc1/bias</c>), which is also what optimizers and checkpoints use.
/// </summary>
/// <remarks>
/// Parameters are ordinary tensors: create a model outside any per-step <see cref="TensorScope"/> (a scope would
/// dispose them when it ends), and dispose the model to hand their memory back.
/// </remarks>
public abstract class Module : IDisposable
{
    // One list for both kinds keeps parameters and children in the order they were registered.
    private readonly List<(string Name, Tensor? Parameter, Module? Child)> _entries = [];
    private bool _disposed;

    /// <summary>Computes the module's output (the tutorials' layer function) and records it for autograd.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Every parameter of this module and its children, depth-first in registration order (each tensor once).</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Values;

    /// <summary>Every parameter by its path (<c>conv1/weight</c>), depth-first in registration order; a tensor shared by two children appears once, under its first path.</summary>
    public IReadOnlyDictionary<string, Tensor> NamedParameters()
    {
        var result = new OrderedDictionary<string, Tensor>(StringComparer.Ordinal);
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        Collect("", result, seen);
        return result;
    }

    private void Collect(string prefix, OrderedDictionary<string, Tensor> result, HashSet<Tensor> seen)
    {
        foreach (var (name, parameter, child) in _entries)
        {
            if (parameter is not null)
            {
                if (seen.Add(parameter)) result.Add(prefix + name, parameter);
            }
            else
            {
                child!.Collect(prefix + name + "/", result, seen);
            }
        }
    }

    /// <summary>The direct children by name, in registration order.</summary>
    public IEnumerable<(string Name, Module Module)> Children()
    {
        foreach (var (name, _, child) in _entries)
            if (child is not null) yield return (name, child);
    }

    /// <summary>
    /// Makes <paramref name="parameter"/> (a float leaf, e.g. from <see cref="Tensor.TruncatedNormal"/>) a trainable
    /// parameter of this module called <paramref name="name"/>; it is marked as requiring a gradient and named after its path.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty, contains '/', or is taken; or the tensor is not a float leaf.</exception>
    protected Tensor RegisterParameter(string name, Tensor parameter)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(parameter);
        parameter.ThrowIfDisposed();
        if (parameter.DType != DType.Float32)
            throw new ArgumentException($"{GetType().Name}.RegisterParameter('{name}'): Tensor{parameter.Describe()} holds {parameter.DType}; parameters must be Float32.", nameof(parameter));
        if (parameter.HasGradFunction)
            throw new ArgumentException($"{GetType().Name}.RegisterParameter('{name}'): Tensor{parameter.Describe()} is the output of an op; parameters must be leaves (create them with Tensor.FromArray, TruncatedNormal, Fill...).", nameof(parameter));
        parameter.RequireGrad();
        parameter.Name = name;
        _entries.Add((name, parameter, null));
        return parameter;
    }

    /// <summary>Makes <paramref name="module"/> a child called <paramref name="name"/>: its parameters become <c>name/...</c> here.</summary>
    /// <exception cref="ArgumentException">The name is empty, contains '/', or is taken; or the module is this one.</exception>
    protected T Register<T>(string name, T module) where T : Module
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(module);
        if (ReferenceEquals(module, this))
            throw new ArgumentException($"{GetType().Name}.Register('{name}'): a module cannot be its own child.", nameof(module));
        _entries.Add((name, null, module));
        // Tensor names follow the paths so error messages say which parameter (conv1/weight) was involved.
        foreach (var (path, parameter) in module.NamedParameters()) parameter.Name = name + "/" + path;
        return module;
    }

    private void CheckName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (name.Length == 0 || name.Contains('/'))
            throw new ArgumentException($"{GetType().Name}: '{name}' is not a valid parameter or module name; names must be non-empty and contain no '/' (it separates path parts).", nameof(name));
        foreach (var entry in _entries)
            if (entry.Name == name)
                throw new ArgumentException($"{GetType().Name}: the name '{name}' is already registered; each parameter and child needs its own name.", nameof(name));
    }

    /// <summary>Drops every parameter's accumulated gradient (before the next backward pass).</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in Parameters()) parameter.ZeroGrad();
    }

    /// <summary>Copies every parameter to the host by path, in <see cref="NamedParameters"/> order (waits for queued work).</summary>
    public IReadOnlyDictionary<string, HostArray> ExportParameters()
    {
        var result = new OrderedDictionary<string, HostArray>(StringComparer.Ordinal);
        foreach (var (path, parameter) in NamedParameters()) result.Add(path, new HostArray(parameter.Shape, parameter.ToArray()));
        return result;
    }

    /// <summary>
    /// Overwrites parameters with host values by path. With <paramref name="strict"/> every parameter must be given and
    /// no other name may appear; otherwise names the model lacks are an error and parameters not given keep their values.
    /// Nothing is written unless every name and shape checks out.
    /// </summary>
    /// <exception cref="ArgumentException">A name is missing or unknown, or a shape differs from the parameter's (the message names both).</exception>
    public void ImportParameters(IReadOnlyDictionary<string, HostArray> values, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(values);
        string op = $"{GetType().Name}.ImportParameters";
        var parameters = NamedParameters();
        var unknown = values.Keys.Where(k => !parameters.ContainsKey(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"{op}: the model has no parameter {Quote(unknown)}; it has {Quote(parameters.Keys)}.", nameof(values));
        if (strict)
        {
            var missing = parameters.Keys.Where(k => !values.ContainsKey(k)).ToList();
            if (missing.Count > 0)
                throw new ArgumentException($"{op}: no values for {Quote(missing)} (pass strict: false to keep their current values).", nameof(values));
        }
        foreach (var (path, value) in values)
        {
            ArgumentNullException.ThrowIfNull(value, path);
            if (value.Shape != parameters[path].Shape)
                throw new ArgumentException($"{op}: '{path}' is {parameters[path].Shape} in the model but the values are {value.Shape}; the shapes must be equal.", nameof(values));
        }
        foreach (var (path, value) in values) CopyFromHost(parameters[path], value.Data);
    }

    internal static void CopyFromHost(Tensor target, float[] data)
    {
        if (data.Length > 0) target.View.Data.CopyFromCPU(target.Stream, data);
    }

    internal static string Quote(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));

    /// <summary>Disposes every parameter (and its gradient) and every child; safe to call twice.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees what the module owns; subclasses holding more than registered tensors and children override it and call the base.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var (_, parameter, child) in _entries)
        {
            if (parameter is not null)
            {
                parameter.ZeroGrad();
                parameter.Dispose();
            }
            child?.Dispose();
        }
    }
}
