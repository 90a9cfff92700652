using Microsoft.AspNetCore.Components;

namespace ImagePictures.Components.WasmApp;

/// <summary>One parameter of the page's query string (no extra package for query parsing).</summary>
public static class PageQuery
{
    public static string? Get(NavigationManager navigation, string name)
    {
        var query = new Uri(navigation.Uri).Query.TrimStart('?');
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            if (Uri.UnescapeDataString(parts[0]) == name) return parts.Length > 1 ? Uri.UnescapeDataString(parts[1].Replace('+', ' ')) : "";
        }
        return null;
    }
}
