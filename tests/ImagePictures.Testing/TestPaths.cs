using ImagePictures.Api.Hosting;

namespace ImagePictures.Testing;

/// <summary>Temporary folders under IMAGEPICTURES_TEST_ROOT (scripts/test.sh stops leftover clusters there).</summary>
public static class TestPaths
{
    public static string Root { get; } = Environment.GetEnvironmentVariable("IMAGEPICTURES_TEST_ROOT") is { Length: > 0 } r ? r : Path.GetTempPath();

    public static string RepositoryRoot { get; } = ImagePictures.Api.Hosting.RepositoryRoot.Find();

    public static string NewDirectory(string prefix)
    {
        var dir = Path.Combine(Root, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>A storage root holding default/default.png, as the service expects.</summary>
    public static string NewStorageRoot(string? at = null)
    {
        var root = at ?? NewDirectory("faults-storage");
        Directory.CreateDirectory(Path.Combine(root, "default"));
        File.Copy(Path.Combine(RepositoryRoot, "images", "default", "default.png"), Path.Combine(root, "default", "default.png"), overwrite: true);
        return root;
    }

    public static void DeleteQuietly(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
