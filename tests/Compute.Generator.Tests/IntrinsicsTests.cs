using Microsoft.CodeAnalysis;
using Xunit;

namespace GpuDeconv.Compute.Generator.Tests;

/// <summary>
/// The intrinsics table (src/Compute.Generator/Intrinsics.cs) against the APIs it maps: every entry spells both targets
/// and matches a real member, and every member of the device API has an entry, so the table and the runtime cannot drift.
/// </summary>
public class IntrinsicsTests
{
    /// <summary>The device API: every public static member must translate.</summary>
    private static readonly string[] DeviceTypes =
    {
        "GpuDeconv.Compute.Grid", "GpuDeconv.Compute.Group", "GpuDeconv.Compute.MemoryFence", "GpuDeconv.Compute.Atomic",
        "GpuDeconv.Compute.Float8", "GpuDeconv.Compute.XMath", "GpuDeconv.Compute.IntrinsicMath",
    };

    /// <summary>The BCL types the table maps some members of.</summary>
    private static readonly string[] SystemTypes =
    {
        "System.Math", "System.MathF", "System.BitConverter", "System.Single", "System.Double", "System.SByte", "System.Byte",
        "System.Int16", "System.UInt16", "System.Int32", "System.UInt32", "System.Int64", "System.UInt64",
    };

    [Fact]
    public void Every_entry_spells_both_targets_with_placeholders_its_arguments_fill()
    {
        var problems = new List<string>();
        foreach (var entry in Intrinsics.All)
        {
            foreach (var (target, spelling) in new[] { ("CUDA", entry.Cuda), ("OpenCL", entry.OpenCL) })
            {
                if (spelling == null || spelling.Emitter == null && string.IsNullOrEmpty(spelling.Text))
                {
                    problems.Add(entry + ": no " + target + " spelling");
                    continue;
                }
                if (spelling.Text is { } text && PlaceholderProblem(text, entry.Arity) is { } problem) problems.Add(entry + " (" + target + "): " + problem);
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Every_entry_matches_a_member_and_every_device_API_member_has_an_entry()
    {
        var compilation = Compilation();
        var used = new HashSet<Intrinsic>();
        var untranslated = new List<string>();
        foreach (string typeName in DeviceTypes.Concat(SystemTypes))
        {
            var type = compilation.GetTypeByMetadataName(typeName);
            Assert.True(type != null, typeName + " not found");
            bool device = DeviceTypes.Contains(typeName);
            foreach (var member in type!.GetMembers().Where(m => m.IsStatic && m.DeclaredAccessibility == Accessibility.Public))
            {
                var entry = Lookup(type, member);
                if (entry != null) used.Add(entry);
                else if (device && member is IPropertySymbol or IMethodSymbol { MethodKind: MethodKind.Ordinary })
                    untranslated.Add(member.ToDisplayString());
            }
        }
        var unused = Intrinsics.All.Where(e => !used.Contains(e)).Select(e => e.ToString()).ToList();
        Assert.True(unused.Count == 0, "entries that match no member of " + string.Join(", ", DeviceTypes.Concat(SystemTypes)) + ":\n" + string.Join("\n", unused));
        Assert.True(untranslated.Count == 0, "device API members without an entry:\n" + string.Join("\n", untranslated));
    }

    /// <summary>The entry the translator would pick for a call of (or a read of) <paramref name="member"/>.</summary>
    private static Intrinsic? Lookup(INamedTypeSymbol type, ISymbol member)
    {
        if (Intrinsics.OwnerOf(type, member.IsStatic) is not { } owner) return null;
        return member switch
        {
            IMethodSymbol { MethodKind: MethodKind.Ordinary } method => Intrinsics.Find(owner, method.Name, Intrinsics.Operand(method), method.Parameters.Length),
            IPropertySymbol property => Intrinsics.Find(owner, property.Name, SpecialType.None, 0),
            _ => null,
        };
    }

    private static string? PlaceholderProblem(string text, int arity)
    {
        for (int i = text.IndexOf('{'); i >= 0; i = text.IndexOf('{', i + 1))
        {
            int close = text.IndexOf('}', i);
            if (close < 0) return "unclosed '{'";
            string key = text.Substring(i + 1, close - i - 1);
            if (key is "*" or "s") continue;
            string digits = key.StartsWith('&') ? key[1..] : key;
            if (digits.Length != 1 || !char.IsAsciiDigit(digits[0])) return "unknown placeholder {" + key + "}";
            int last = digits[0] - '0' + (key.StartsWith('&') ? 1 : 0);
            if (arity != Intrinsics.AnyArity && last >= arity) return "{" + key + "} reaches past its " + arity + " arguments";
        }
        return null;
    }

    private static Compilation Compilation()
    {
        GeneratorHarness.Run(GeneratorHarness.Usings + "public static class Empty { }\n");
        return GeneratorHarness.LastCompilation!;
    }
}
