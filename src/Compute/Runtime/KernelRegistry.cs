using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using System.Text;

namespace GpuDeconv.Compute;

/// <summary>Marks a method as a kernel for the generator when it is not passed to a Load*Kernel call in its own project.</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class KernelAttribute : Attribute;

/// <summary>The kernels whose generated code has been registered by module initializers.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class KernelRegistry
{
    private static readonly ConcurrentDictionary<string, KernelDefinition> Definitions = new(StringComparer.Ordinal);

    public static void Register(KernelDefinition definition) => Definitions[definition.Key] = definition;

    public static IReadOnlyCollection<KernelDefinition> All => (IReadOnlyCollection<KernelDefinition>)Definitions.Values;

    /// <summary>Finds the generated definition of <paramref name="method"/>.</summary>
    /// <exception cref="InvalidOperationException">No generated code exists for the method.</exception>
    public static KernelDefinition Find(MethodInfo method)
    {
        string key = KernelKey.Of(method);
        if (Definitions.TryGetValue(key, out var definition)) return definition;
        // Module initializers run on first access to the assembly's types; touching the
        // declaring type's module makes sure they have run.
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(method.Module.ModuleHandle);
        if (Definitions.TryGetValue(key, out definition)) return definition;
        throw new InvalidOperationException(
            $"No generated code for kernel {method.DeclaringType?.Name}.{method.Name} (key {key}). " +
            "Kernels are translated at build time: pass the method group to a Load*Kernel call in the same project, " +
            "or mark it [Kernel], and make sure the project references GpuDeconv.Compute (its generator runs as an analyzer).");
    }
}

/// <summary>The stable string that identifies a kernel method on both sides of the ABI (docs/kernel-abi.md section 2).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class KernelKey
{
    public static string Of(MethodInfo method)
    {
        var builder = new StringBuilder();
        builder.Append(method.DeclaringType?.FullName).Append("::").Append(method.Name).Append('(');
        var parameters = method.GetParameters();
        for (int i = 0; i < parameters.Length; i++)
        {
            if (i > 0) builder.Append(',');
            AppendType(builder, parameters[i].ParameterType);
        }
        return builder.Append(')').ToString();
    }

    private static void AppendType(StringBuilder builder, Type type)
    {
        if (!type.IsGenericType)
        {
            builder.Append(type.FullName);
            return;
        }
        builder.Append(type.GetGenericTypeDefinition().FullName).Append('[');
        var arguments = type.GetGenericArguments();
        for (int i = 0; i < arguments.Length; i++)
        {
            if (i > 0) builder.Append(',');
            AppendType(builder, arguments[i]);
        }
        builder.Append(']');
    }
}
