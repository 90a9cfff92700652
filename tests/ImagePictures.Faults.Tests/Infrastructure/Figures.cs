namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>Figures worth reporting go to the test output and to faults-figures.log next to the tests.</summary>
public static class Figures
{
    private static readonly object Gate = new();
    public static string LogPath { get; } = Path.Combine(AppContext.BaseDirectory, "faults-figures.log");

    public static void Write(ITestOutputHelper output, string test, string line)
    {
        output.WriteLine(line);
        lock (Gate) File.AppendAllText(LogPath, $"{DateTime.UtcNow:O} {test}: {line}{Environment.NewLine}");
    }
}
