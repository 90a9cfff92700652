using System.Globalization;

namespace ImagePictures.Dashboard;

/// <summary>Formatting helpers shared by the dashboard components (culture-invariant).</summary>
public static class DashboardFormat
{
    public const string Dash = "—";

    public static string Utc(DateTimeOffset? value) =>
        value is null ? Dash : value.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    public static string Bytes(long bytes)
    {
        if (bytes < 0) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        string[] units = ["B", "KB", "MB", "GB", "TB", "PB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? bytes.ToString(CultureInfo.InvariantCulture) + " B"
            : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Svg(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
