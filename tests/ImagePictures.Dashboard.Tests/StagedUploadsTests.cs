using Bunit;
using ImagePictures.Dashboard;

namespace ImagePictures.Dashboard.Tests;

[Trait("Category", "Unit")]
public class StagedUploadsTests : DashboardTestBase
{
    private static readonly Guid U1 = Guid.Parse("11111111-1111-1111-1111-111111111111");
    private static readonly Guid U2 = Guid.Parse("22222222-2222-2222-2222-222222222222");

    public StagedUploadsTests()
    {
        var t = FakeAdminDashboardService.T0;
        Fake.Uploads.Add(new StagedUploadView(U1, "alice", t, t.AddHours(24), 1_500_000));
        Fake.Uploads.Add(new StagedUploadView(U2, "bob", t.AddHours(-30), t.AddHours(-6), 512));
    }

    private static bool IsDisabled(IRenderedComponent<StagedUploads> cut) =>
        cut.Find("[data-testid=confirm-delete-all]").HasAttribute("disabled");

    [Fact]
    public void Lists_uploads()
    {
        var cut = Render<StagedUploads>();

        var rows = cut.FindAll("[data-testid=upload-row]");
        Assert.Equal(2, rows.Count);
        Assert.Contains("alice", rows[0].TextContent);
        Assert.Contains("1.4 MB", rows[0].TextContent);
        Assert.Contains("512 B", rows[1].TextContent);
        Assert.Empty(cut.FindAll("[data-testid=confirm-box]"));
    }

    [Fact]
    public void Delete_all_confirm_is_disabled_until_exact_phrase_then_sends_confirm()
    {
        var cut = Render<StagedUploads>();

        cut.Find("[data-testid=delete-all]").Click();
        Assert.True(IsDisabled(cut));

        foreach (var wrong in new[] { "delete", "Delete-all", "delete-all ", " delete-all", "DELETE-ALL" })
        {
            cut.Find("[data-testid=confirm-input]").Input(wrong);
            Assert.True(IsDisabled(cut), $"enabled for '{wrong}'");
        }

        cut.Find("[data-testid=confirm-input]").Input("delete-all");
        Assert.False(IsDisabled(cut));

        cut.Find("[data-testid=confirm-delete-all]").Click();

        cut.WaitForAssertion(() => Assert.Equal("found 3, deleted 2, failed 1", cut.Find("[data-testid=cleanup-result]").TextContent));
        var request = Assert.Single(Fake.CleanupRequests);
        Assert.Equal("delete-all", request.Action);
        Assert.Equal("delete-all", request.Confirm);
        Assert.Null(request.UploadId);
        Assert.Empty(cut.FindAll("[data-testid=confirm-box]"));
    }

    [Fact]
    public void Wrong_confirmation_text_never_calls_cleanup_even_if_clicked()
    {
        var cut = Render<StagedUploads>();
        cut.Find("[data-testid=delete-all]").Click();

        cut.Find("[data-testid=confirm-input]").Input("delete-al");
        // bUnit dispatches the click even on a disabled button: the handler must still refuse.
        cut.Find("[data-testid=confirm-delete-all]").Click();
        cut.Find("[data-testid=confirm-input]").Input("yes");
        cut.Find("[data-testid=confirm-delete-all]").Click();

        Assert.Empty(Fake.CleanupRequests);
        Assert.Empty(cut.FindAll("[data-testid=cleanup-result]"));
    }

    [Fact]
    public void Cancel_hides_confirmation_and_resets_text()
    {
        var cut = Render<StagedUploads>();
        cut.Find("[data-testid=delete-all]").Click();
        cut.Find("[data-testid=confirm-input]").Input("delete-all");
        cut.Find("[data-testid=cancel-delete-all]").Click();
        Assert.Empty(cut.FindAll("[data-testid=confirm-box]"));

        cut.Find("[data-testid=delete-all]").Click();
        Assert.True(IsDisabled(cut));
        Assert.Empty(Fake.CleanupRequests);
    }

    [Fact]
    public void Cleanup_old_sends_hours_and_shows_result()
    {
        Fake.CleanupResult = new CleanupResultView(4, 4, 0);
        var cut = Render<StagedUploads>();

        cut.Find("[data-testid=hours-input]").Change("6.5");
        cut.Find("[data-testid=cleanup-old]").Click();

        cut.WaitForAssertion(() => Assert.Equal("found 4, deleted 4, failed 0", cut.Find("[data-testid=cleanup-result]").TextContent));
        var request = Assert.Single(Fake.CleanupRequests);
        Assert.Equal("cleanup-old", request.Action);
        Assert.Equal(6.5, request.OlderThanHours);
        Assert.Null(request.Confirm);
        Assert.Equal(2, Fake.CallCount("GetUploadsAsync")); // reloaded after the action
    }

    [Fact]
    public void Cleanup_old_defaults_to_24_hours()
    {
        var cut = Render<StagedUploads>();
        cut.Find("[data-testid=cleanup-old]").Click();
        Assert.Equal(24, Assert.Single(Fake.CleanupRequests).OlderThanHours);
    }

    [Fact]
    public void Cleanup_old_rejects_negative_hours()
    {
        var cut = Render<StagedUploads>();
        cut.Find("[data-testid=hours-input]").Change("-1");
        cut.Find("[data-testid=cleanup-old]").Click();

        Assert.Empty(Fake.CleanupRequests);
        Assert.Contains("hours", cut.Find("[data-testid=error]").TextContent);
    }

    [Fact]
    public void Delete_row_sends_delete_session_with_upload_id()
    {
        var cut = Render<StagedUploads>();

        cut.Find($"[data-upload='{U2}'] [data-testid=delete-session]").Click();

        var request = Assert.Single(Fake.CleanupRequests);
        Assert.Equal("delete-session", request.Action);
        Assert.Equal(U2, request.UploadId);
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=cleanup-result]")));
    }

    [Fact]
    public void Cleanup_error_is_shown_as_message()
    {
        Fake.Failures["CleanupAsync"] = new HttpRequestException("storage offline");
        var cut = Render<StagedUploads>();

        cut.Find("[data-testid=cleanup-old]").Click();

        cut.WaitForAssertion(() => Assert.Contains("storage offline", cut.Find("[data-testid=error]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=cleanup-result]"));
        Assert.Equal(2, cut.FindAll("[data-testid=upload-row]").Count);
    }

    [Fact]
    public void Load_error_is_shown_as_message()
    {
        Fake.Failures["GetUploadsAsync"] = new InvalidOperationException("boom");
        var cut = Render<StagedUploads>();
        Assert.Contains("boom", cut.Find("[data-testid=error]").TextContent);
    }
}
