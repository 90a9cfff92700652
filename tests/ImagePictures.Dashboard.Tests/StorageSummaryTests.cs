using Bunit;
using ImagePictures.Dashboard;

namespace ImagePictures.Dashboard.Tests;

[Trait("Category", "Unit")]
public class StorageSummaryTests : DashboardTestBase
{
    [Fact]
    public void Shows_counts_and_human_readable_bytes()
    {
        Fake.Summary = new StorageSummaryView(1234, 56, 7, 12_900_000);
        var cut = Render<StorageSummary>();

        Assert.Equal("1,234", cut.Find("[data-testid=users]").TextContent);
        Assert.Equal("56", cut.Find("[data-testid=live-pictures]").TextContent);
        Assert.Equal("7", cut.Find("[data-testid=trashed-pictures]").TextContent);
        Assert.Equal("12.3 MB", cut.Find("[data-testid=bytes]").TextContent);
    }

    [Fact]
    public void Error_is_shown_as_message()
    {
        Fake.Failures["GetStorageSummaryAsync"] = new InvalidOperationException("db down");
        var cut = Render<StorageSummary>();
        Assert.Contains("db down", cut.Find("[data-testid=error]").TextContent);
    }

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(1024L, "1.0 KB")]
    [InlineData(12_900_000L, "12.3 MB")]
    [InlineData(5L * 1024 * 1024 * 1024, "5.0 GB")]
    public void Bytes_formatting(long bytes, string expected) =>
        Assert.Equal(expected, DashboardFormat.Bytes(bytes));
}
