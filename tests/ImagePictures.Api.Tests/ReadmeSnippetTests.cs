using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ImagePictures.Api.Hosting;
using Xunit.Abstractions;

namespace ImagePictures.Api.Tests;

/// <summary>
/// Every C# and Razor example of the packages' READMEs compiles against the packages as they are: the
/// blocks are written into a generated Razor project that references ImagePictures.Client and
/// ImagePictures.Components, each C# block as the body of a method whose parameters are the names
/// the README says are the reader's own (services, provider, tokens, logger, cache, userId,
/// savedSeq), each Razor block as a component; a compile error points at the README's line.
/// </summary>
[Trait("Category", "Unit")]
public partial class ReadmeSnippetTests(ITestOutputHelper output)
{
    [GeneratedRegex(@"^```(csharp|cs|razor)\s*$")]
    private static partial Regex Fence();

    private const string Preamble = """
        global using ImagePictures.Client;
        global using Microsoft.Extensions.DependencyInjection;
        global using Microsoft.Extensions.Logging;

        public interface ITokenSource { Task<string?> GetTokenAsync(CancellationToken ct); }
        public interface IAvatarCache { void Invalidate(string userId); }
        """;

    private const string Parameters =
        "IServiceCollection services, IServiceProvider provider, ITokenSource tokens, ILogger logger, IAvatarCache cache, string userId, long savedSeq";

    [Theory]
    [InlineData("src/ImagePictures.Client/README.md")]
    [InlineData("src/ImagePictures.Components/README.md")]
    public async Task EverySnippetCompiles(string readme)
    {
        var root = RepositoryRoot.Find();
        var path = Path.Combine(root, readme);
        var lines = await File.ReadAllLinesAsync(path);
        var folder = Directory.CreateTempSubdirectory("ip-snippets-").FullName;
        try
        {
            var csharp = new StringBuilder(Preamble).Append("\npublic static class ReadmeExamples\n{\n");
            var count = 0;
            for (var i = 0; i < lines.Length; i++)
            {
                if (Fence().Match(lines[i]) is not { Success: true } fence) continue;
                var end = Array.FindIndex(lines, i + 1, l => l.TrimEnd() == "```");
                var code = string.Join("\n", lines[(i + 1)..end]);
                count++;
                if (fence.Groups[1].Value == "razor")
                    await File.WriteAllTextAsync(Path.Combine(folder, $"Snippet{count}.razor"), code);
                else
                    csharp.Append($"    public static async Task Snippet{count}({Parameters})\n    {{\n#line {i + 2} \"{path}\"\n{code}\n#line default\n        await Task.CompletedTask;\n    }}\n");
                i = end;
            }
            Assert.True(count > 0, $"{readme} has no C# or Razor example");
            await File.WriteAllTextAsync(Path.Combine(folder, "Snippets.cs"), csharp.Append("}\n").ToString());
            await File.WriteAllTextAsync(Path.Combine(folder, "Snippets.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk.Razor">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <NoWarn>$(NoWarn);CS1998;CS0168;CS0219</NoWarn>
                  </PropertyGroup>
                  <ItemGroup>
                    <ProjectReference Include="{Path.Combine(root, "src", "ImagePictures.Client", "ImagePictures.Client.csproj")}" />
                    <ProjectReference Include="{Path.Combine(root, "src", "ImagePictures.Components", "ImagePictures.Components.csproj")}" />
                  </ItemGroup>
                </Project>
                """);

            var start = new ProcessStartInfo("dotnet", ["build", folder, "-c", "Release", "-nologo", "-v", "quiet", "-clp:ErrorsOnly"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using var build = Process.Start(start)!;
            var stdout = build.StandardOutput.ReadToEndAsync();
            var stderr = build.StandardError.ReadToEndAsync();
            await build.WaitForExitAsync();
            var text = await stdout + await stderr;
            output.WriteLine(text);
            Assert.True(build.ExitCode == 0, $"{readme}: an example does not compile:\n{text}");
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}
