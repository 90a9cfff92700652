using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Hosting;

/// <summary>
/// Settings are checked once, before the service listens: a wrong or missing value stops the start
/// with one line per problem naming the setting ("Pictures:MaxUploadBytes") and what it expects, so
/// that no setting can fail later on a request. Each feature owns the options class of its section
/// (data annotations, and <see cref="IValidatableObject"/> for checks across fields) and registers it
/// in its own AddX with <c>services.AddSettings&lt;T&gt;("Section")</c>; the code then reads only the
/// bound options, never <see cref="IConfiguration"/>.
/// </summary>
public static class Settings
{
    /// <summary>
    /// <c>AddOptions&lt;T&gt;().BindConfiguration(section).ValidateOnStart()</c>, validated by
    /// <see cref="SectionValidator{T}"/> rather than ValidateDataAnnotations: that one validates without
    /// the service provider (our cross-field checks read the environment), not nested sections, and
    /// words its failures as "DataAnnotation validation failed for …" instead of naming the setting.
    /// </summary>
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, string section) where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(sp => new SectionValidator<T>(section, sp));
        services.AddSingleton(new SettingsSection(section, typeof(T)));
        return services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>A value of the wrong type, as the binder reports it, in our words: names the setting, never its value.</summary>
    private static string? BindingFailure(InvalidOperationException e)
    {
        var match = System.Text.RegularExpressions.Regex.Match(e.Message, "at '([^']+)' to type '([^']+)'");
        return match.Success ? $"{match.Groups[1].Value}: expected {Kind(match.Groups[2].Value)}." : null;
    }

    private static string Kind(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" => "a number",
        "System.Boolean" => "true or false",
        _ => $"a value of type {type.Replace("System.", "")}",
    };

    /// <summary>
    /// Runs every check registered with <see cref="AddSettings{T}"/>; on failure writes one line per
    /// problem to <paramref name="error"/> and returns false.
    /// </summary>
    public static bool SettingsAreValid(this WebApplication app, TextWriter error)
    {
        try
        {
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            return true;
        }
        catch (Exception e)
        {
            foreach (var line in Lines(e)) error.WriteLine($"Invalid setting {line}");
            error.Flush();
            // A test host (WebApplicationFactory) has no process to exit: it gets the failure itself.
            if (app.Services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.GetType().Assembly.GetName().Name == "Microsoft.AspNetCore.TestHost")
                throw;
            return false;
        }
    }

    private static IEnumerable<string> Lines(Exception e) => e switch
    {
        AggregateException a => a.InnerExceptions.SelectMany(Lines),
        OptionsValidationException v => v.Failures,
        InvalidOperationException i when BindingFailure(i) is { } line => [line],
        _ => [$"(unexpected): {e.Message}"],
    };

    /// <summary>
    /// Origins (scheme://host[:port]) as a browser sends them in its Origin header: absolute http or
    /// https, with a host, and nothing after it (no path, query, fragment, user or trailing slash).
    /// </summary>
    public static IEnumerable<ValidationResult> CheckOrigins(IReadOnlyList<string> origins, string member)
    {
        for (var i = 0; i < origins.Count; i++)
        {
            var origin = origins[i];
            var valid = Uri.TryCreate(origin, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0
                && uri.UserInfo.Length == 0 && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && !origin.EndsWith('/');
            if (!valid)
                yield return new ValidationResult("expected an origin such as https://app.example.com (scheme, host and optional port; no path).", [$"{member}:{i}"]);
        }
    }

    /// <summary>
    /// Data annotations and <see cref="IValidatableObject"/> of the options and of their nested sections
    /// (a property whose type is an options class of this service), each failure as "Section:Key: message".
    /// </summary>
    private sealed class SectionValidator<T>(string section, IServiceProvider services) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            if (name != Options.DefaultName) return ValidateOptionsResult.Skip;
            var failures = Check(options, section).ToList();
            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        private IEnumerable<string> Check(object options, string path)
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(options, new ValidationContext(options, services, null), results, validateAllProperties: true);
            foreach (var r in results)
                yield return $"{string.Join(", ", r.MemberNames.DefaultIfEmpty("").Select(m => m.Length == 0 ? path : $"{path}:{m}"))}: {r.ErrorMessage}";
            foreach (var (key, nested) in NestedSections(options))
                foreach (var failure in Check(nested, $"{path}:{key}")) yield return failure;
        }
    }

    /// <summary>The nested sections of an options object, by their configuration key.</summary>
    public static IEnumerable<(string Key, object Value)> NestedSections(object options) =>
        from p in options.GetType().GetProperties()
        where p.CanWrite && p.PropertyType.IsClass && p.PropertyType.Assembly == typeof(Settings).Assembly
        let value = p.GetValue(options)
        where value is not null
        select (KeyOf(p), value);

    /// <summary>The configuration key a property binds to: its name, or its <see cref="ConfigurationKeyNameAttribute"/>.</summary>
    public static string KeyOf(System.Reflection.PropertyInfo property) =>
        property.GetCustomAttributes(typeof(ConfigurationKeyNameAttribute), false) is [ConfigurationKeyNameAttribute named, ..] ? named.Name : property.Name;
}

/// <summary>A section bound by <see cref="Settings.AddSettings{T}"/>: which keys of appsettings.json something reads.</summary>
public sealed record SettingsSection(string Name, Type OptionsType);

/// <summary>A standard five-field cron (minute hour day-of-month month day-of-week), as the job scheduler takes it.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FiveFieldCronAttribute() : ValidationAttribute(Expected)
{
    public const string Expected = "expected a five-field cron (minute hour day-of-month month day-of-week, UTC), e.g. \"0 3 * * *\".";

    /// <summary>Empty (or absent) stands for the job's default.</summary>
    public override bool IsValid(object? value) => value is null or "" || value is string s && IsFiveFieldCron(s);

    private static readonly (int Min, int Max, string[]? Names)[] Fields =
    [
        (0, 59, null), (0, 23, null), (1, 31, null),
        (1, 12, ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]),
        (0, 7, ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]),
    ];

    public static bool IsFiveFieldCron(string cron)
    {
        var parts = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 5 && parts.Select((p, i) => p.Split(',').All(item => IsItem(item, Fields[i]))).All(ok => ok);
    }

    // "*", "?" (day fields), "n", "a-b", each optionally "/step".
    private static bool IsItem(string item, (int Min, int Max, string[]? Names) field)
    {
        var slash = item.Split('/');
        if (slash.Length > 2 || (slash.Length == 2 && !(int.TryParse(slash[1], out var step) && step >= 1 && step <= field.Max))) return false;
        var range = slash[0];
        if (range == "*" || (range == "?" && field.Min <= 1 && field.Max is 31 or 7)) return true;
        var ends = range.Split('-');
        if (ends.Length > 2) return false;
        var values = ends.Select(e => Value(e, field)).ToArray();
        return values.All(v => v is not null) && (values.Length == 1 || values[0] <= values[1]);
    }

    private static int? Value(string text, (int Min, int Max, string[]? Names) field)
    {
        if (int.TryParse(text, System.Globalization.NumberStyles.None, null, out var n)) return n >= field.Min && n <= field.Max ? n : null;
        var index = field.Names is null ? -1 : Array.IndexOf(field.Names, text.ToUpperInvariant());
        return index < 0 ? null : index + field.Min;
    }
}
