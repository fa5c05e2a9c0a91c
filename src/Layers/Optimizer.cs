using System.Globalization;

namespace GpuDeconv.Layers;

/// <summary>
/// The base of the optimizers: a fixed list of named parameters, per-parameter state tensors ("slots", as TF calls
/// them) created zero-filled up front, and a step counter. <see cref="Step"/> applies one update to every parameter
/// that has a gradient, under <see cref="Autograd.NoGrad"/>; the state exports to and imports from host arrays named
/// <c>prefix/slot/parameter</c> (<c>adam/m/conv1/weight</c>) plus <c>prefix/step</c>.
/// </summary>
/// <remarks>
/// Create the optimizer next to the model, outside any per-step <see cref="TensorScope"/>: its state tensors are
/// ordinary tensors and a scope would dispose them. The optimizer classes are named <c>SgdOptimizer</c> and
/// <c>AdamOptimizer</c> (TF's names) so they do not clash with the update kernels GpuDeconv.Kernels.Sgd and Adam.
/// </remarks>
public abstract class Optimizer : IDisposable
{
    /// <summary>The largest step count the exported state can hold exactly (the step is exported as a float scalar).</summary>
    public const int MaxExportableStep = 1 << 24;

    private readonly string _prefix;
    private readonly List<(string Slot, Tensor[] Tensors)> _slots = [];
    private float _learningRate;
    private bool _disposed;

    /// <summary>Optimizes the parameters of <paramref name="module"/>, named by their paths.</summary>
    protected Optimizer(string statePrefix, Module module, float learningRate)
        : this(statePrefix, (module ?? throw new ArgumentNullException(nameof(module))).NamedParameters().Select(p => (p.Key, p.Value)), learningRate)
    {
    }

    /// <summary>Optimizes <paramref name="parameters"/>, named by <see cref="Tensor.Name"/> (or their position when unnamed).</summary>
    protected Optimizer(string statePrefix, IEnumerable<Tensor> parameters, float learningRate)
        : this(statePrefix, (parameters ?? throw new ArgumentNullException(nameof(parameters))).Select((p, i) => (p?.Name ?? i.ToString(CultureInfo.InvariantCulture), p!)), learningRate)
    {
    }

    private Optimizer(string statePrefix, IEnumerable<(string Name, Tensor Parameter)> parameters, float learningRate)
    {
        _prefix = statePrefix;
        var names = new List<string>();
        var tensors = new List<Tensor>();
        var seenNames = new HashSet<string>(StringComparer.Ordinal);
        var seenTensors = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (name, parameter) in parameters)
        {
            if (parameter is null)
                throw new ArgumentException($"{GetType().Name}: parameter '{name}' is null.", nameof(parameters));
            parameter.ThrowIfDisposed();
            if (!parameter.RequiresGrad || parameter.HasGradFunction || parameter.DType != DType.Float32)
                throw new ArgumentException($"{GetType().Name}: Tensor{parameter.Describe()} is not a parameter; optimizers update float leaves that require a gradient (Module.RegisterParameter or Tensor.RequireGrad).", nameof(parameters));
            if (!seenTensors.Add(parameter))
                throw new ArgumentException($"{GetType().Name}: Tensor{parameter.Describe()} is listed twice; each parameter may be updated once per step.", nameof(parameters));
            if (!seenNames.Add(name))
                throw new ArgumentException($"{GetType().Name}: two parameters are named '{name}'; state names must be unique (name the tensors, or pass a Module).", nameof(parameters));
            names.Add(name);
            tensors.Add(parameter);
        }
        ParameterNames = names;
        Parameters = tensors;
        LearningRate = learningRate;
    }

    /// <summary>The parameters this optimizer updates, in order.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The names the state uses for <see cref="Parameters"/> (module paths such as <c>conv1/weight</c>).</summary>
    public IReadOnlyList<string> ParameterNames { get; }

    /// <summary>The learning rate; may change between steps (schedules).</summary>
    /// <exception cref="ArgumentException">The value is negative or not finite.</exception>
    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (!float.IsFinite(value) || value < 0f)
                throw new ArgumentException($"{GetType().Name}: learningRate is {value}; it must be finite and zero or positive.", nameof(LearningRate));
            _learningRate = value;
        }
    }

    /// <summary>How many times <see cref="Step"/> has run (TF's global step; Adam's t).</summary>
    public int StepCount { get; private set; }

    /// <summary>Drops every parameter's accumulated gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in Parameters) parameter.ZeroGrad();
    }

    /// <summary>Applies one update to every parameter that has a gradient (parameters without one are skipped) and counts the step.</summary>
    /// <exception cref="ObjectDisposedException">The optimizer, a parameter or a gradient was disposed.</exception>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = Autograd.NoGrad();
        StepCount = checked(StepCount + 1);
        for (int i = 0; i < Parameters.Count; i++)
        {
            var gradient = Parameters[i].Grad;
            if (gradient is not null) Apply(i, Parameters[i], gradient);
        }
    }

    /// <summary>Updates parameter <paramref name="index"/> in place from its gradient; <see cref="StepCount"/> already counts this step.</summary>
    protected abstract void Apply(int index, Tensor parameter, Tensor gradient);

    /// <summary>Creates a zero-filled state tensor per parameter, exported as <c>prefix/slot/parameter</c>; call from the constructor.</summary>
    protected Tensor[] AddSlot(string slot)
    {
        var tensors = new Tensor[Parameters.Count];
        for (int i = 0; i < tensors.Length; i++)
        {
            tensors[i] = Tensor.Zeros(Parameters[i].Accelerator, Parameters[i].Shape);
            tensors[i].Name = $"{_prefix}/{slot}/{ParameterNames[i]}";
        }
        _slots.Add((slot, tensors));
        return tensors;
    }

    private string StepName => $"{_prefix}/step";

    /// <summary>Copies the state to the host: <c>prefix/step</c> (a float scalar) then every slot tensor by name (waits for queued work).</summary>
    /// <exception cref="InvalidOperationException">The step count is above <see cref="MaxExportableStep"/>.</exception>
    public IReadOnlyDictionary<string, HostArray> ExportState()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (StepCount > MaxExportableStep)
            throw new InvalidOperationException($"{GetType().Name}.ExportState: step {StepCount} is above {MaxExportableStep}, the largest a float holds exactly.");
        var state = new OrderedDictionary<string, HostArray>(StringComparer.Ordinal) { [StepName] = new HostArray([], [StepCount]) };
        foreach (var (_, tensors) in _slots)
            foreach (var tensor in tensors) state.Add(tensor.Name!, new HostArray(tensor.Shape, tensor.ToArray()));
        return state;
    }

    /// <summary>
    /// Restores state exported by <see cref="ExportState"/> from an optimizer of the same kind over the same parameter names
    /// and shapes; continuing then gives the same parameters bit for bit as never stopping. Nothing changes unless all checks pass.
    /// </summary>
    /// <exception cref="ArgumentException">A name is missing or unknown, a shape differs (the message names both), or the step is not a whole number in [0, <see cref="MaxExportableStep"/>].</exception>
    public void ImportState(IReadOnlyDictionary<string, HostArray> state)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(state);
        string op = $"{GetType().Name}.ImportState";
        var expected = new OrderedDictionary<string, Tensor?>(StringComparer.Ordinal) { [StepName] = null };
        foreach (var (_, tensors) in _slots)
            foreach (var tensor in tensors) expected.Add(tensor.Name!, tensor);
        var missing = expected.Keys.Where(k => !state.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"{op}: the state has no {Module.Quote(missing)}; it must hold {Module.Quote(expected.Keys)}.", nameof(state));
        var unknown = state.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"{op}: {Module.Quote(unknown)} is not state of this optimizer (over these parameters); it holds {Module.Quote(expected.Keys)}.", nameof(state));
        var step = state[StepName];
        ArgumentNullException.ThrowIfNull(step, StepName);
        if (step.Shape.Rank != 0 || !(step.Data[0] >= 0f && step.Data[0] <= MaxExportableStep && step.Data[0] == MathF.Floor(step.Data[0])))
            throw new ArgumentException($"{op}: '{StepName}' must be a scalar [] holding a whole number in [0, {MaxExportableStep}], but it is {step.Shape} {(step.Data.Length > 0 ? step.Data[0].ToString(CultureInfo.InvariantCulture) : "(empty)")}.", nameof(state));
        foreach (var (name, tensor) in expected)
        {
            if (tensor is null) continue;
            var value = state[name];
            ArgumentNullException.ThrowIfNull(value, name);
            if (value.Shape != tensor.Shape)
                throw new ArgumentException($"{op}: '{name}' is {value.Shape} but the optimizer's state tensor is {tensor.Shape}; the shapes must be equal.", nameof(state));
        }
        foreach (var (name, tensor) in expected)
            if (tensor is not null) Module.CopyFromHost(tensor, state[name].Data);
        StepCount = (int)step.Data[0];
    }

    /// <summary>Frees the state tensors (not the parameters, which belong to the model); safe to call twice.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (_, tensors) in _slots)
            foreach (var tensor in tensors) tensor.Dispose();
        GC.SuppressFinalize(this);
    }
}
