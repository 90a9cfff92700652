using System.Text.RegularExpressions;
using ImagePictures.Api.Hosting;

namespace ImagePictures.Api.Tests.Realtime;

/// <summary>
/// The shipped JavaScript elements name the hub events they handle in one HUB_EVENTS list each; those lists must be
/// the contract's (ImagePictures.Contracts.EventTypes), so that renaming an event on one side only fails here and not
/// silently in a browser. Every hub registration must go through the list, and every event type the code compares
/// with must be in it.
/// </summary>
[Trait("Category", "Unit")]
public partial class JsEventNamesTests
{
    [GeneratedRegex(@"const HUB_EVENTS = \[(?<names>[^\]]*)\];")]
    private static partial Regex HubEvents();

    [GeneratedRegex(@"'(?<name>[^']*)'")]
    private static partial Regex Quoted();

    // connection.on('Name', …): a registration that bypasses HUB_EVENTS.
    [GeneratedRegex(@"\.on\(\s*['""`]")]
    private static partial Regex LiteralRegistration();

    // e.type === 'Name' and the like: an event type the code relies on.
    [GeneratedRegex(@"\.type\s*[!=]==?\s*'(?<name>[^']*)'")]
    private static partial Regex TypeComparison();

    public static TheoryData<string, string[]> Elements => new()
    {
        // <live-avatar> only watches: it hears what watchers hear.
        { "src/ImagePictures.Api/LiveAvatar/live-avatar.element.js", EventTypes.ForWatchers.ToArray() },
        // <avatar-editor> shows the owner's pictures: every event but EmailsChanged, which is about e-mail addresses.
        { "src/ImagePictures.Api/AvatarEditor/avatar-editor.element.js", EventTypes.All.Except([EventTypes.EmailsChanged]).ToArray() },
    };

    [Theory]
    [MemberData(nameof(Elements))]
    public void TheElementHandlesTheContractsEventNames(string file, string[] expected)
    {
        var source = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), file));
        var list = HubEvents().Matches(source);
        Assert.True(list.Count == 1, $"{file} must declare its hub events once, as const HUB_EVENTS = ['…', …];");
        var names = Quoted().Matches(list[0].Groups["names"].Value).Select(m => m.Groups["name"].Value).ToArray();

        Assert.Equal(expected.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        Assert.False(LiteralRegistration().IsMatch(source), $"{file} registers a hub event by a literal name; register HUB_EVENTS' names instead.");
        foreach (Match m in TypeComparison().Matches(source))
            Assert.True(names.Contains(m.Groups["name"].Value), $"{file} compares an event type with '{m.Groups["name"].Value}', which is not in its HUB_EVENTS.");
    }

    /// <summary>The one list that an attribute forces us to write again (its arguments must be constants) is checked here.</summary>
    [Fact]
    public void TheEventTypeAttributeListsEveryEventType()
    {
        var type = typeof(PictureEvent).GetProperty(nameof(PictureEvent.Type))!;
        var allowed = type.GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.AllowedValuesAttribute), false)
            .Cast<System.ComponentModel.DataAnnotations.AllowedValuesAttribute>().Single();
        Assert.Equal(EventTypes.All.Order(StringComparer.Ordinal), allowed.Values.Cast<string>().Order(StringComparer.Ordinal));
    }
}
