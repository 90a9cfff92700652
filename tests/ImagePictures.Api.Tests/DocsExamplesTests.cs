using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace ImagePictures.Api.Tests;

/// <summary>
/// Every ```sh / ```bash block of README.md and docs/*.md that calls the service (it runs curl) is
/// executed as written, page by page, in page order, in one bash per page (so a variable set in one
/// block is there in the next), against a Development service on a real port. The pages are
/// written for http://localhost:5080 (scripts/run.sh); the test replaces that address with the
/// port it got, and runs the blocks in an empty folder that holds a photo.jpg (1200×900), as the
/// pages say. A block fails on a non-zero exit (set -e, pipefail) or when it prints a 4xx/5xx
/// problem detail; a block that shows an error prints its status with -w instead. A block preceded
/// by the line &lt;!-- illustrative --&gt; is skipped: it needs what a test cannot have (a real
/// domain, production secrets).
/// </summary>
[Trait("Category", "Api")]
public partial class DocsExamplesTests(KestrelPicturesApplication app, ITestOutputHelper output) : IClassFixture<KestrelPicturesApplication>
{
    public const string Illustrative = "<!-- illustrative -->";

    public sealed record Block(string Page, int Line, string Code);

    [GeneratedRegex(@"^```(?:sh|bash)\s*$")]
    private static partial Regex ShellFence();

    [GeneratedRegex("\"status\"\\s*:\\s*[45]\\d\\d")]
    private static partial Regex ErrorProblem();

    public static IReadOnlyList<Block> ServiceBlocks(string page)
    {
        var lines = File.ReadAllLines(page);
        var blocks = new List<Block>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!ShellFence().IsMatch(lines[i])) continue;
            var start = i;
            var end = Array.FindIndex(lines, i + 1, l => l.TrimEnd() == "```");
            i = end;
            var illustrative = start > 0 && lines[start - 1].Trim() == Illustrative;
            var code = string.Join("\n", lines[(start + 1)..end]);
            if (!illustrative && code.Contains("curl ")) blocks.Add(new(Path.GetFileName(page), start + 1, code));
        }
        return blocks;
    }

    public static TheoryData<string> Pages()
    {
        var root = RepositoryRoot.Find();
        var pages = new TheoryData<string>();
        foreach (var page in new[] { Path.Combine(root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order()))
            if (ServiceBlocks(page).Count > 0) pages.Add(Path.GetRelativePath(root, page));
        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task EveryCommandOfThePageRunsAsWritten(string page)
    {
        var blocks = ServiceBlocks(Path.Combine(RepositoryRoot.Find(), page));
        var folder = Directory.CreateTempSubdirectory("ip-docs-").FullName;
        try
        {
            using (var photo = TestImages.Split(1200, 900, TestImages.Red, TestImages.Blue))
                await File.WriteAllBytesAsync(Path.Combine(folder, "photo.jpg"), TestImages.Jpeg(photo));
            var address = new Uri(app.BaseUrl).Authority; // 127.0.0.1:port
            var script = new StringBuilder("set -eo pipefail\n");
            foreach (var block in blocks)
                script.Append($"echo '>>> {block.Page}:{block.Line}'\n").Append(block.Code.Replace("localhost:5080", address)).Append('\n');

            var start = new ProcessStartInfo("bash", ["-c", script.ToString()])
            {
                WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using var bash = Process.Start(start)!;
            var stdout = bash.StandardOutput.ReadToEndAsync();
            var stderr = bash.StandardError.ReadToEndAsync();
            await bash.WaitForExitAsync();
            var text = await stdout + "\n" + await stderr;
            output.WriteLine(text);

            var lastBlock = text.Split('\n').LastOrDefault(l => l.StartsWith(">>> "), ">>> (before the first block)")[4..];
            Assert.True(bash.ExitCode == 0, $"{page}: the block at {lastBlock} failed (exit {bash.ExitCode}):\n{text}");
            foreach (var part in text.Split(">>> ").Skip(1))
                Assert.False(ErrorProblem().IsMatch(part), $"{page}: the block at {part.Split('\n')[0]} printed an error answer:\n{part}");
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
