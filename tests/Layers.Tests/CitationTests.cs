using System.Text.RegularExpressions;
using Xunit;

namespace GpuDeconv.Layers.Tests;

/// <summary>
/// Every Markdown file the repository cites (in docs, in code comments, in scripts) exists inside the repository:
/// a citation is a path from the citing file's folder or from the repository root (docs/reference/op-semantics.md
/// section 4, ../gpu-check.md, a Markdown link's target). Placeholders (&lt;date&gt;-&lt;machine&gt;.md, $DIR/x.md),
/// temporary paths and URLs are not citations.
/// </summary>
public sealed partial class CitationTests
{
    private static readonly string[] Extensions = [".cs", ".md", ".py", ".sh", ".csproj", ".props", ".targets"];

    [GeneratedRegex(@"(?<![\w/.<>{}$*-])((?:\.{1,2}/)*[\w][\w./-]*\.md)(?![\w-])")]
    private static partial Regex Citation();

    [GeneratedRegex(@"\[[^\]\n]*\]\(")]
    private static partial Regex LinkLabel();

    [Fact]
    public void EveryCitedMarkdownFileExistsInTheRepository()
    {
        string root = RepositoryRoot();
        var broken = new List<string>();
        int checkedCitations = 0;
        foreach (string file in SourceFiles(root))
        {
            if (Path.GetFileName(file) == "CitationTests.cs") continue;       // its own examples are of broken citations
            string text = File.ReadAllText(file);
            if (file.EndsWith(".cs", StringComparison.Ordinal)) text = Comments(text);     // string literals are data
            text = LinkLabel().Replace(text, "[](");                                       // [label](target): check the target
            foreach (Match match in Citation().Matches(text))
            {
                string cited = match.Groups[1].Value;
                int before = match.Index;
                string context = text[Math.Max(0, before - 10)..before];
                if (context.Contains("://", StringComparison.Ordinal) || cited.StartsWith("/tmp/", StringComparison.Ordinal)) continue;
                checkedCitations++;
                string fromFile = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, cited));
                string fromRoot = Path.GetFullPath(Path.Combine(root, cited));
                bool inside = (File.Exists(fromFile) && fromFile.StartsWith(root, StringComparison.Ordinal))
                              || (File.Exists(fromRoot) && fromRoot.StartsWith(root, StringComparison.Ordinal));
                if (!inside) broken.Add($"{Path.GetRelativePath(root, file)}: {cited}");
            }
        }
        Assert.True(checkedCitations > 50, $"only {checkedCitations} citations found: the scan is broken");
        Assert.True(broken.Count == 0, "citations of files that are not in the repository:\n" + string.Join("\n", broken.Distinct()));
    }

    [Fact]
    public void TheCheckFindsACitationOfAMissingFile()
    {
        string text = "// see op-semantics.md section 4 and docs/reference/op-semantics.md section 2";
        var cited = Citation().Matches(Comments(text)).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(["op-semantics.md", "docs/reference/op-semantics.md"], cited);
        Assert.False(File.Exists(Path.Combine(RepositoryRoot(), "op-semantics.md")));
    }

    // The text of // and /* */ comments (with /// doc comments), one per line.
    private static string Comments(string source)
    {
        var comments = new System.Text.StringBuilder();
        foreach (Match match in Regex.Matches(source, @"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline))
            comments.AppendLine(match.Value);
        return comments.ToString();
    }

    private static IEnumerable<string> SourceFiles(string root)
    {
        var skip = new[] { "bin", "obj", "artifacts", ".git", ".gpucheck", "node_modules" };
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            string directory = pending.Pop();
            foreach (string sub in Directory.GetDirectories(directory))
                if (!skip.Contains(Path.GetFileName(sub)) && !Path.GetFileName(sub).StartsWith('.')) pending.Push(sub);
                else if (Path.GetFileName(sub) == ".ci") pending.Push(sub);
            foreach (string file in Directory.GetFiles(directory))
                if (Extensions.Contains(Path.GetExtension(file)) || Path.GetFileName(file) == "run") yield return file;
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "GpuDeconv.sln"))) return directory.FullName;
        throw new InvalidOperationException($"No GpuDeconv.sln above {AppContext.BaseDirectory}.");
    }
}
