namespace ImagePictures.Api.Hosting;

/// <summary>
/// The service reads the top-level appsettings.json and keeps images/ and .data/ at the repository
/// root, whichever folder it is started from (scripts/run.sh, dotnet test, a published copy).
/// </summary>
public static class RepositoryRoot
{
    public static string Find()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ImagePictures.sln")))
                    return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }

    /// <summary>Puts the top-level settings files first, so environment variables and test settings still win.</summary>
    public static void AddTopLevelSettings(this WebApplicationBuilder builder)
    {
        var root = Find();
        var env = builder.Environment.EnvironmentName;
        var sources = (IList<IConfigurationSource>)builder.Configuration.Sources;
        var files = new[] { "appsettings.json", $"appsettings.{env}.json" };
        for (var i = 0; i < files.Length; i++)
        {
            sources.Insert(i, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
            {
                FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(root),
                Path = files[i],
                Optional = i > 0,
            });
        }
        builder.Configuration["RepositoryRoot"] ??= root;
    }

    /// <summary>Resolves a configured path against the repository root when it is relative.</summary>
    public static string Resolve(IConfiguration config, string path) =>
        Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(config["RepositoryRoot"] ?? Find(), path));
}
