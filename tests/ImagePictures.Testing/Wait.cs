using System.Diagnostics;

namespace ImagePictures.Testing;

/// <summary>
/// Waiting for something the code will make true (a row, a message, a counter) by polling it. Test
/// projects import it statically, so a test reads <c>await Eventually(() => …, "what")</c>. The deadline
/// is generous on purpose: it only bounds a broken run and never measures speed (the benchmark does).
/// </summary>
public static class Wait
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(25);

    /// <summary>Returns once <paramref name="condition"/> holds; throws, naming <paramref name="what"/>, after <paramref name="within"/> (60 s).</summary>
    public static Task Eventually(Func<bool> condition, string what, TimeSpan? within = null) =>
        Eventually(() => Task.FromResult(condition()), what, within);

    /// <inheritdoc cref="Eventually(Func{bool}, string, TimeSpan?)"/>
    public static async Task Eventually(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var patience = within ?? Patience;
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > patience) throw new TimeoutException($"Still not so after {patience.TotalSeconds:0} s: {what}");
            await Task.Delay(Poll);
        }
    }
}
