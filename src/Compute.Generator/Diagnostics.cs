using Microsoft.CodeAnalysis;

namespace GpuDeconv.Compute.Generator;

/// <summary>
/// Every diagnostic the kernel translator reports. All are errors: a kernel that uses anything
/// outside the translatable subset gets no registration, so the build stops at the C# node.
/// Keep this table in sync with docs/diagnostics.md.
/// </summary>
/// <remarks>
/// | ID | meaning | write instead |
/// |---|---|---|
/// | GD0001 | reference-type or managed local, parameter or value (class, array, string, object, pointer) | value types: primitives, enums, unmanaged structs, ArrayView&lt;T&gt; |
/// | GD0002 | array creation (`new T[n]`, collection expressions) | SharedMemory.Allocate&lt;T&gt;(n) or LocalMemory.Allocate&lt;T&gt;(n) |
/// | GD0003 | throw / try / catch / finally | return early or write an error flag to a view |
/// | GD0004 | foreach | a for loop over an index |
/// | GD0005 | lambda, local function, delegate, method group as value | a static helper method |
/// | GD0006 | goto, yield, await, lock, using, checked, unsafe, stackalloc, fixed, pointers | structured loops, unchecked arithmetic, views |
/// | GD0007 | tuples, patterns, `is`, switch expressions | separate locals, comparisons, `?:`, switch statements |
/// | GD0008 | `?.` and `??` | explicit comparisons |
/// | GD0009 | call to a method that cannot be translated | a static method in the same project, or a known intrinsic |
/// | GD0010 | recursion | a loop |
/// | GD0011 | ref / out parameters on helpers | return a value or a struct |
/// | GD0012 | mutable or non-constant static field | const, static readonly primitive array with an initializer, or a kernel parameter |
/// | GD0013 | kernel not static void, or generic, or with an unsupported parameter list | a static void non-generic method |
/// | GD0014 | shared memory with a non-constant size, or outside an explicit kernel's body | constant sizes, allocate in the kernel and pass views to helpers |
/// | GD0015 | unsupported intrinsic (Warp.*, an unmapped Math function, ...) | the listed alternatives |
/// | GD0016 | string or char use | integer codes |
/// | GD0017 | unsupported expression or statement form | a simpler equivalent |
/// | GD0018 | a view used in an unsupported way (stored in a struct, returned, mixed address spaces) | pass views as parameters, index them directly |
/// | GD9999 | internal translator failure | report a bug; the message carries the exception |
/// </remarks>
internal static class Diagnostics
{
    private const string Category = "GpuDeconv.Kernel";

    private static DiagnosticDescriptor Error(string id, string title, string format) =>
        new(id, title, format, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ManagedType = Error("GD0001",
        "Managed type in kernel",
        "Kernel code cannot use {0} of type '{1}': only primitives, enums, unmanaged structs and views are translatable; pass data through ArrayView<T> parameters instead");

    public static readonly DiagnosticDescriptor ArrayCreation = Error("GD0002",
        "Array creation in kernel",
        "Kernel code cannot create arrays ({0}); use SharedMemory.Allocate<T>(n) for per-group memory or LocalMemory.Allocate<T>(n) for per-thread memory");

    public static readonly DiagnosticDescriptor Exceptions = Error("GD0003",
        "Exceptions in kernel",
        "Kernel code cannot use {0}: devices have no exceptions; return early or write an error flag to a view instead");

    public static readonly DiagnosticDescriptor ForEach = Error("GD0004",
        "foreach in kernel",
        "Kernel code cannot use foreach; write a for loop over an index instead");

    public static readonly DiagnosticDescriptor Delegates = Error("GD0005",
        "Lambda, local function or delegate in kernel",
        "Kernel code cannot use {0}; move the code into a static helper method instead");

    public static readonly DiagnosticDescriptor UnsupportedControl = Error("GD0006",
        "Unsupported statement in kernel",
        "Kernel code cannot use {0}; {1}");

    public static readonly DiagnosticDescriptor Patterns = Error("GD0007",
        "Tuple or pattern in kernel",
        "Kernel code cannot use {0}; use separate locals, comparisons, '?:' or a switch statement instead");

    public static readonly DiagnosticDescriptor NullOperators = Error("GD0008",
        "Null-conditional or coalescing operator in kernel",
        "Kernel code cannot use '{0}'; kernel values are never null, write an explicit comparison instead");

    public static readonly DiagnosticDescriptor UntranslatableCall = Error("GD0009",
        "Call to an untranslatable method",
        "Kernel code cannot call '{0}': {1}; call a static method declared in this project or a known intrinsic (Math, XMath, Atomic, Group, Grid, ...) instead");

    public static readonly DiagnosticDescriptor Recursion = Error("GD0010",
        "Recursion in kernel",
        "Kernel code cannot be recursive ('{0}' calls itself through '{1}'); rewrite the recursion as a loop");

    public static readonly DiagnosticDescriptor RefParameter = Error("GD0011",
        "ref/out parameter on a kernel helper",
        "Helper '{0}' has a {1} parameter '{2}'; return the value (or a struct of values) instead; only Atomic.* targets may be passed by ref");

    public static readonly DiagnosticDescriptor MutableStatic = Error("GD0012",
        "Static field in kernel",
        "Kernel code cannot read static field '{0}' because it is {1}; use a const, a static readonly primitive array with an initializer, or pass the value as a kernel parameter");

    public static readonly DiagnosticDescriptor BadKernel = Error("GD0013",
        "Invalid kernel method",
        "Kernel '{0}' {1}; a kernel must be a static void, non-generic method of a non-generic type whose parameters are an optional index followed by views, primitives, enums and unmanaged structs");

    public static readonly DiagnosticDescriptor SharedMemory = Error("GD0014",
        "Invalid shared memory use",
        "{0}; allocate shared memory with constant sizes in the body of an explicitly grouped kernel and pass the views to helpers");

    public static readonly DiagnosticDescriptor UnsupportedIntrinsic = Error("GD0015",
        "Unsupported intrinsic",
        "'{0}' is not supported on devices; {1}");

    public static readonly DiagnosticDescriptor Strings = Error("GD0016",
        "String or char in kernel",
        "Kernel code cannot use {0}; devices have no strings, use integer codes instead");

    public static readonly DiagnosticDescriptor UnsupportedSyntax = Error("GD0017",
        "Unsupported construct in kernel",
        "Kernel code cannot use {0}; {1}");

    public static readonly DiagnosticDescriptor ViewUse = Error("GD0018",
        "Unsupported use of a view",
        "{0}; pass views as parameters and index them directly");

    public static readonly DiagnosticDescriptor Internal = Error("GD9999",
        "Internal kernel translator failure",
        "The kernel translator failed on '{0}': {1}; please report this with the kernel's code");
}
