using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Hosting;

/// <summary>
/// Settings are checked once, before the service listens: a wrong or missing value stops the start
/// with one line per problem naming the setting ("Pictures:MaxUploadBytes") and what it expects, so
/// that no setting can fail later on a request. To add a section: a class with data annotations
/// (and <see cref="IValidatableObject"/> for checks across fields), registered with
/// <c>services.AddSettings&lt;T&gt;("Section")</c>; its error messages say what is expected.
/// </summary>
public static class Settings
{
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, string section) where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(sp => new SectionValidator<T>(section, sp));
        return services.AddOptions<T>()
            .Configure<IConfiguration>((options, config) => Bind(config, section, options))
            .ValidateOnStart();
    }

    /// <summary>Binds, turning a value of the wrong type into a message that names the setting (never its value).</summary>
    private static void Bind(IConfiguration config, string section, object options)
    {
        try { config.GetSection(section).Bind(options); }
        catch (InvalidOperationException e)
        {
            var match = System.Text.RegularExpressions.Regex.Match(e.Message, "at '([^']+)' to type '([^']+)'");
            var path = match.Success ? match.Groups[1].Value : section;
            throw new InvalidSettingsException([$"{path}: expected {Kind(match.Groups[2].Value)}."]);
        }
    }

    private static string Kind(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" => "a number",
        "System.Boolean" => "true or false",
        "" => "a value of the documented kind",
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
        InvalidSettingsException s => s.Failures,
        _ => [$"(unexpected): {e.Message}"],
    };

    private sealed class SectionValidator<T>(string section, IServiceProvider services) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            if (name != Options.DefaultName) return ValidateOptionsResult.Skip;
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(options, new ValidationContext(options, services, null), results, validateAllProperties: true);
            if (results.Count == 0) return ValidateOptionsResult.Success;
            return ValidateOptionsResult.Fail(results.Select(r =>
                $"{string.Join(", ", r.MemberNames.DefaultIfEmpty("").Select(m => m.Length == 0 ? section : $"{section}:{m}"))}: {r.ErrorMessage}"));
        }
    }
}

public sealed class InvalidSettingsException(IReadOnlyList<string> failures) : Exception(string.Join("; ", failures))
{
    public IReadOnlyList<string> Failures { get; } = failures;
}

/// <summary>A standard five-field cron (minute hour day-of-month month day-of-week), as the job scheduler takes it.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class FiveFieldCronAttribute() : ValidationAttribute(Expected)
{
    public const string Expected = "expected a five-field cron (minute hour day-of-month month day-of-week, UTC), e.g. \"0 3 * * *\".";

    public override bool IsValid(object? value) => value is null || value is string s && IsFiveFieldCron(s);

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
