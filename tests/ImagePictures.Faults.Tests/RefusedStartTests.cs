using System.Diagnostics;
using ImagePictures.Faults.Tests.Infrastructure;

namespace ImagePictures.Faults.Tests;

/// <summary>
/// A wrong or missing setting stops the real service (a child process) before it listens: a non-zero
/// exit within 30 s, and a line that names the setting and says what is expected.
/// </summary>
[Trait("Category", "Fault")]
public class RefusedStartTests
{
    // Unreachable on purpose: a start that got past the settings check would fail on it instead, without the line.
    private const string NoDatabase = "Host=127.0.0.1;Port=1;Database=none;Username=none;Timeout=1";

    private static async Task<(int ExitCode, string Output)> StartAsync(Dictionary<string, string> env)
    {
        var psi = new ProcessStartInfo("dotnet", [ServiceProcess.ApiDll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestPaths.RepositoryRoot,
            UseShellExecute = false,
        };
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_") || k.StartsWith("DOTNET_ENVIRONMENT")).ToList())
            psi.Environment.Remove(key);
        psi.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        psi.Environment["ConnectionStrings__Pictures"] = NoDatabase;
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the service was still running after 30 s:\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static async Task AssertRefused(Dictionary<string, string> env, params string[] named)
    {
        var (exitCode, output) = await StartAsync(env);
        Assert.True(exitCode != 0, $"exit code 0:\n{output}");
        Assert.DoesNotContain("Now listening", output);
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("Invalid setting", StringComparison.Ordinal) && named.All(l.Contains));
        Assert.True(line is not null, $"no line naming {string.Join(" and ", named)}:\n{output}");
        Assert.Contains("expected", line);
    }

    [Fact]
    public Task NoTokenIssuerOutsideDevelopment() =>
        AssertRefused(new() { ["ASPNETCORE_ENVIRONMENT"] = "Production" }, "Auth:Authority", "Auth:Audience");

    [Fact]
    public Task ASigningKeyOutsideDevelopmentWithoutAllowSymmetricKey() =>
        AssertRefused(new() { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["Auth__SigningKey"] = "a-production-key-that-is-long-enough-0123456789" },
            "Auth:SigningKey", "Auth:AllowSymmetricKey");

    [Fact]
    public Task ABadSizeList() =>
        AssertRefused(new() { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Pictures__Sizes__0"] = "0" }, "Pictures:Sizes");

    [Fact]
    public Task ASizeThatIsNotANumber() =>
        AssertRefused(new() { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Pictures__Sizes__1"] = "large" }, "Pictures:Sizes:1");

    [Fact]
    public Task ABadCron() =>
        AssertRefused(new() { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Jobs__trash-purge__Cron"] = "every night" }, "Jobs:trash-purge:Cron");

    [Fact]
    public Task AnAllowedOriginWithAPath() =>
        AssertRefused(new() { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Realtime__AllowedOrigins__0"] = "https://app.example.com/" },
            "Invalid setting Realtime:AllowedOrigins:0: expected an origin such as https://app.example.com");

    [Fact]
    public Task AZeroUploadLimit() =>
        AssertRefused(new() { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["Pictures__MaxUploadBytes"] = "0" }, "Pictures:MaxUploadBytes");
}
