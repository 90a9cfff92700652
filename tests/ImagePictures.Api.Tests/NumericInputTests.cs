using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

/// <summary>
/// Every number the API takes, at and beyond its range: overflow, negative, huge, fractional and
/// not a number are 400 with a problem detail, never 500.
/// </summary>
[Trait("Category", "Api")]
public class NumericInputTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task AssertBadRequest(HttpResponseMessage response, string? mentions, string what)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
        if (mentions is not null) Assert.Contains(mentions, detail);
    }

    [Theory]
    [InlineData("1e308")]
    [InlineData("1.7976931348623157e308")]
    [InlineData("2.6e9")] // just past what TimeSpan holds in hours
    [InlineData("87601")]
    [InlineData("-1")]
    [InlineData("-0.5")]
    public async Task CleanupOldWithAnOlderThanHoursOutOfRangeIs400NamingTheField(string hours)
    {
        var response = await app.Admin().PostAsync("/api/admin/uploads/cleanup", Json($"{{\"action\":\"cleanup-old\",\"olderThanHours\":{hours}}}"));
        await AssertBadRequest(response, "olderThanHours", $"olderThanHours {hours}");
    }

    [Theory]
    [InlineData("1e400")] // not even a double
    [InlineData("\"ten\"")]
    public async Task CleanupOldWithAnOlderThanHoursThatIsNoNumberIs400(string hours)
    {
        var response = await app.Admin().PostAsync("/api/admin/uploads/cleanup", Json($"{{\"action\":\"cleanup-old\",\"olderThanHours\":{hours}}}"));
        await AssertBadRequest(response, null, $"olderThanHours {hours}");
    }

    [Fact]
    public async Task CleanupOldAtTheEdgesOfTheRangeWorks()
    {
        foreach (var hours in new[] { "0", "87600", "0.25" })
        {
            var response = await app.Admin().PostAsync("/api/admin/uploads/cleanup", Json($"{{\"action\":\"cleanup-old\",\"olderThanHours\":{hours}}}"));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{hours}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Theory]
    [InlineData("after=-1", "after")]
    [InlineData("after=9223372036854775808", null)]
    [InlineData("after=1e3", null)]
    [InlineData("after=abc", null)]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=-2147483648", "limit")]
    [InlineData("limit=2147483648", null)]
    [InlineData("limit=99999999999999999999", null)]
    public async Task EventsWithAnAfterOrLimitOutOfRangeIs400(string query, string? mentions)
    {
        var response = await app.ClientFor("num-eve").GetAsync($"/api/users/num-eve/events?{query}");
        await AssertBadRequest(response, mentions, query);
    }

    [Theory]
    [InlineData("limit=2147483648")]
    [InlineData("limit=1.5")]
    [InlineData("limit=x")]
    public async Task JobRunsWithALimitThatIsNoIntIs400(string query)
    {
        var response = await app.Admin().GetAsync($"/api/admin/jobs/orphan-sweep/runs?{query}");
        await AssertBadRequest(response, null, query);
    }

    [Theory]
    [InlineData("limit=-5")]
    [InlineData("limit=0")]
    [InlineData("limit=2147483647")]
    public async Task JobRunsWithAnyIntLimitAnswers200(string query)
    {
        var response = await app.Admin().GetAsync($"/api/admin/jobs/orphan-sweep/runs?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("size=0")]
    [InlineData("size=-1")]
    [InlineData("size=-2147483648")]
    [InlineData("size=2147483648")]
    [InlineData("size=99999999999999999999")]
    [InlineData("size=1e2")]
    public async Task AvatarSizesOutOfRangeAre400(string query)
    {
        var response = await app.CreateClient().GetAsync($"/avatars/num-ava?{query}");
        await AssertBadRequest(response, null, query);
    }

    [Fact]
    public async Task TheLargestIntAvatarSizeServesTheLargestVariant()
    {
        var response = await app.CreateClient().GetAsync($"/avatars/num-ava?size={int.MaxValue}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-64")]
    [InlineData("2147483648")]
    [InlineData("99999999999999999999")]
    [InlineData("64.0")]
    public async Task VariantSizesOutOfRangeAre400(string size)
    {
        var response = await app.CreateClient().GetAsync($"/pictures/{Guid.NewGuid()}/{size}");
        await AssertBadRequest(response, null, size);
    }

    [Theory]
    [InlineData("{\"x\":2147483647,\"y\":0,\"width\":2147483647,\"height\":64}", "crop")]
    [InlineData("{\"x\":-2147483648,\"y\":0,\"width\":64,\"height\":64}", "crop")]
    [InlineData("{\"x\":0,\"y\":0,\"width\":64,\"height\":-64}", "crop")]
    [InlineData("{\"x\":0,\"y\":0,\"width\":1e10,\"height\":64}", null)]
    [InlineData("{\"x\":0.5,\"y\":0,\"width\":64,\"height\":64}", null)]
    [InlineData("{\"x\":0,\"y\":0,\"width\":9223372036854775808,\"height\":64}", null)]
    public async Task ACropOutOfRangeIs400AndTheUploadStaysStaged(string crop, string? mentions)
    {
        const string user = "num-cora";
        var client = app.ClientFor(user);
        using var image = TestImages.Split(400, 300, TestImages.Red, TestImages.Blue);
        var staged = await client.PostAsync("/api/uploads", TestUploads.Form(TestImages.Jpeg(image)));
        Assert.Equal(HttpStatusCode.Created, staged.StatusCode);
        var id = (await staged.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var response = await client.PostAsync($"/api/uploads/{id}/commit", Json($"{{\"activate\":false,\"crop\":{crop}}}"));
        await AssertBadRequest(response, mentions, crop);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/uploads/{id}/preview")).StatusCode);
        // Abandoned, so that the cases together stay within Uploads:MaxStagedPerUser.
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/uploads/{id}")).StatusCode);
    }
}
