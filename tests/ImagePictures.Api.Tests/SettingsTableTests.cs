using System.ComponentModel;
using System.Globalization;
using System.Text.RegularExpressions;
using ImagePictures.Api.Events;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;

namespace ImagePictures.Api.Tests;

/// <summary>
/// The repository's appsettings.json, the settings tables of docs/configuration.md and the options
/// classes the service registers (<see cref="Settings.AddSettings{T}"/>) say the same: every key of
/// appsettings.json is bound by some options class (a typo or a dead setting fails), every option is
/// in the tables, and a fresh options object's default is the documented one and appsettings.json's.
/// </summary>
[Trait("Category", "Unit")]
public partial class SettingsTableTests
{
    /// <summary>Sections the framework reads itself, not an options class of ours.</summary>
    private static readonly string[] FrameworkSections = ["Logging", "AllowedHosts", "ConnectionStrings", "Kestrel"];

    /// <summary>
    /// Arrays start empty, since configuration binding appends to an array instead of replacing it;
    /// an empty list stands for these defaults.
    /// </summary>
    private static readonly Dictionary<string, object> EmptyListDefaults = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Pictures:Sizes"] = PictureOptions.DefaultSizes,
        ["Events:Webhooks:RetryDelaysSeconds"] = WebhookOptions.DefaultRetryDelaysSeconds,
    };

    /// <summary>How the tables write a default in prose, as the value the option holds.</summary>
    private static readonly Dictionary<string, string> Prose = new()
    {
        ["empty"] = "", ["empty (off)"] = "", ["unset"] = "", ["— (required)"] = "",
        ["[] (any)"] = "[]", ["[] (any origin in Development)"] = "[]",
        ["10 MiB"] = "10485760", ["64 MiB"] = "67108864",
        ["cores"] = "0", // MaxConcurrentDecodes 0: one per core
        ["false (true in Development)"] = "", // null: the environment decides
    };

    private sealed record Option(string Key, Type Type, object? Default);

    private static string Root => RepositoryRoot.Find();

    private static List<Option> RegisteredOptions()
    {
        using var program = new ProgramRegistrations();
        var sections = program.Services.GetServices<SettingsSection>().ToList();
        Assert.NotEmpty(sections);
        return sections.SelectMany(s => Leaves(Activator.CreateInstance(s.OptionsType)!, s.Name)).ToList();
    }

    /// <summary>The settable properties, nested sections walked into, by configuration key.</summary>
    private static IEnumerable<Option> Leaves(object options, string path)
    {
        foreach (var p in options.GetType().GetProperties().Where(p => p.SetMethod?.IsPublic == true))
        {
            var key = $"{path}:{Settings.KeyOf(p)}";
            var value = p.GetValue(options);
            if (p.PropertyType.IsClass && p.PropertyType.Assembly == typeof(Settings).Assembly)
                foreach (var leaf in Leaves(value!, key)) yield return leaf;
            else
                yield return new Option(key, p.PropertyType, value);
        }
    }

    private static IConfigurationRoot AppSettings() =>
        new ConfigurationBuilder().SetBasePath(Root).AddJsonFile("appsettings.json").Build();

    private static IEnumerable<IConfigurationSection> LeafSections(IConfiguration config) =>
        config.GetChildren().SelectMany(c => c.GetChildren().Any() ? LeafSections(c) : [c]);

    private static bool IsFramework(string key) => FrameworkSections.Any(s => key == s || key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase));

    [Fact]
    public void EveryKeyOfAppSettingsIsBoundByAnOptionsClass()
    {
        var options = RegisteredOptions();
        var unbound = LeafSections(AppSettings()).Select(s => s.Path).Where(key => !IsFramework(key) && !options.Any(o =>
            string.Equals(key, o.Key, StringComparison.OrdinalIgnoreCase)
            || (o.Type.IsArray && key.StartsWith(o.Key + ":", StringComparison.OrdinalIgnoreCase) && int.TryParse(key[(o.Key.Length + 1)..], out _)))).ToList();
        Assert.True(unbound.Count == 0, $"appsettings.json keys that no options class binds: {string.Join(", ", unbound)}");
    }

    [Fact]
    public void EveryDefaultIsTheOneOfAppSettings()
    {
        var config = AppSettings();
        var wrong = new List<string>();
        foreach (var option in RegisteredOptions())
        {
            var section = config.GetSection(option.Key);
            if (!section.Exists()) continue;
            var given = option.Type.IsArray
                ? Canon(section.GetChildren().Select(c => Convert(c.Value!, option.Type.GetElementType()!)).ToArray())
                : Canon(Convert(section.Value ?? "", option.Type));
            if (given != DefaultOf(option)) wrong.Add($"{option.Key}: class {DefaultOf(option)}, appsettings.json {given}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void EveryOptionIsInTheTableWithItsDefault()
    {
        var table = DocumentedDefaults();
        var options = RegisteredOptions();
        var wrong = new List<string>();
        foreach (var option in options)
        {
            if (!table.TryGetValue(option.Key, out var documented)) wrong.Add($"{option.Key}: not in docs/configuration.md");
            else if (DocumentedValue(documented, option.Type) != DefaultOf(option)) wrong.Add($"{option.Key}: class {DefaultOf(option)}, docs \"{documented}\"");
        }
        foreach (var key in table.Keys.Where(k => !IsFramework(k) && !options.Any(o => string.Equals(o.Key, k, StringComparison.OrdinalIgnoreCase))))
            wrong.Add($"{key}: documented, but no options class binds it");
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    private static string DefaultOf(Option option) =>
        option.Default is Array { Length: 0 } && EmptyListDefaults.TryGetValue(option.Key, out var list) ? Canon(list) : Canon(option.Default);

    private static object? Convert(string text, Type type) =>
        text.Length == 0 && type != typeof(string) ? null : TypeDescriptor.GetConverter(type).ConvertFromInvariantString(text);

    private static string Canon(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        TimeSpan t => t.ToString("c"),
        Array a => "[" + string.Join(",", a.Cast<object?>().Select(Canon)) + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A default as the table writes it, as the option would hold it.</summary>
    private static string DocumentedValue(string text, Type type)
    {
        var plain = text.Replace("`", "").Trim();
        if (Prose.TryGetValue(plain, out var value)) return type.IsArray && value == "" ? "[]" : value; // "empty" list
        if (ThousandsNumber().IsMatch(plain)) return plain.Replace(",", "");
        if (Duration().Match(plain) is { Success: true } d)
            return (d.Groups[2].Value == "s" ? TimeSpan.FromSeconds(int.Parse(d.Groups[1].Value)) : TimeSpan.FromMinutes(int.Parse(d.Groups[1].Value))).ToString("c");
        if (plain.StartsWith('[')) return plain.Replace(" ", "");
        return plain;
    }

    [GeneratedRegex(@"^\d{1,3}(,\d{3})+$")]
    private static partial Regex ThousandsNumber();

    [GeneratedRegex(@"^(\d+) (s|min)$")]
    private static partial Regex Duration();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();

    [GeneratedRegex(@"`(\w+)` \(([^)]+)\)")]
    private static partial Regex NamedDefault();

    /// <summary>
    /// Setting → default from the tables whose header is "setting | default": a row may name several
    /// keys ("`A:B` / `C`", a key without a section takes the first one's) with as many defaults; rows
    /// with a wildcard are covered by rows of their own (Storage:S3:*, Events:*), say their defaults
    /// in the meaning column (Jobs:Hangfire:*), or in docs/operations.md's job table (Jobs:{name}:Cron).
    /// </summary>
    private static Dictionary<string, string> DocumentedDefaults()
    {
        var defaults = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var cells in TableRows(Path.Combine(Root, "docs", "configuration.md"), "setting", "default"))
        {
            var keys = Code().Matches(cells[0]).Select(m => m.Groups[1].Value).ToList();
            if (keys is ["Jobs:Hangfire:*"])
            {
                foreach (Match m in NamedDefault().Matches(cells[2])) defaults[$"Jobs:Hangfire:{m.Groups[1].Value}"] = m.Groups[2].Value;
                continue;
            }
            if (keys is ["Jobs:{name}:Cron"])
            {
                foreach (var job in TableRows(Path.Combine(Root, "docs", "operations.md"), "job id", "default cron"))
                    defaults[$"Jobs:{job[0].Trim('`')}:Cron"] = job[1];
                continue;
            }
            if (keys.Any(k => k.Contains('*'))) continue;
            var section = keys[0][..keys[0].LastIndexOf(':')];
            var values = keys.Count == 1 ? [cells[1]] : cells[1].Split(cells[1].Contains(" / ") ? " / " : ", ");
            for (var i = 0; i < keys.Count; i++)
                defaults[keys[i].Contains(':') ? keys[i] : $"{section}:{keys[i]}"] = values.Length == 1 ? values[0] : values[i];
        }
        return defaults;
    }

    private static IEnumerable<string[]> TableRows(string markdown, string first, string second)
    {
        var inTable = false;
        foreach (var line in File.ReadLines(markdown))
        {
            if (!line.StartsWith('|')) { inTable = false; continue; }
            var cells = line.Trim().Trim('|').Split(" | ").Select(c => c.Trim()).ToArray();
            if (cells.Length >= 2 && cells[0] == first && cells[1] == second) { inTable = true; continue; }
            if (inTable && !cells[0].StartsWith("---")) yield return cells;
        }
    }
}

/// <summary>Realtime:AllowedOrigins and Cors:AllowedOrigins hold origins as a browser sends them.</summary>
[Trait("Category", "Unit")]
public class OriginSettingTests
{
    [Theory]
    [InlineData("https://app.example.com")]
    [InlineData("http://127.0.0.1:5173")]
    [InlineData("https://[::1]:8443")]
    public void AnOriginIsAccepted(string origin) => Assert.Empty(Settings.CheckOrigins([origin], "AllowedOrigins"));

    [Theory]
    [InlineData("https://app.example.com/")]
    [InlineData("https://app.example.com/app")]
    [InlineData("https://app.example.com?x=1")]
    [InlineData("https://app.example.com#top")]
    [InlineData("https://user@app.example.com")]
    [InlineData("app.example.com")]
    [InlineData("ftp://app.example.com")]
    [InlineData("*")]
    public void AnythingElseIsRefusedNamingTheEntry(string origin)
    {
        var refused = Assert.Single(Settings.CheckOrigins(["https://fine.example", origin], "AllowedOrigins"));
        Assert.Equal(["AllowedOrigins:1"], refused.MemberNames);
        Assert.Equal("expected an origin such as https://app.example.com (scheme, host and optional port; no path).", refused.ErrorMessage);
    }
}
