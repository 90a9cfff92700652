using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

/// <summary>The OpenAPI document is complete enough for a typed client, and the reference UI is served.</summary>
[Trait("Category", "Api")]
public class ApiDocsTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    private async Task<JsonElement> DocumentAsync() => await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");

    private static IEnumerable<(string Path, string Method, JsonElement Operation)> ApiOperations(JsonElement doc) =>
        doc.GetProperty("paths").EnumerateObject().Where(p => p.Name.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(p => p.Value.EnumerateObject().Where(m => Methods.Contains(m.Name)).Select(m => (p.Name, m.Name, m.Value)));

    [Fact]
    public async Task EverySuccessResponseHasASchemaAndEveryErrorIsProblemDetails()
    {
        var doc = await DocumentAsync();
        var operations = ApiOperations(doc).ToList();
        Assert.True(operations.Count >= 20, $"only {operations.Count} /api operations documented");
        var problems = new List<string>();
        foreach (var (path, method, op) in operations)
        {
            var name = $"{method.ToUpperInvariant()} {path}";
            if (!op.TryGetProperty("operationId", out _)) problems.Add($"{name}: no operationId");
            if (!op.TryGetProperty("summary", out var summary) || summary.GetString() is not { Length: > 0 }) problems.Add($"{name}: no summary");
            var responses = op.GetProperty("responses").EnumerateObject().ToList();
            if (!responses.Any(r => r.Name.StartsWith('2'))) problems.Add($"{name}: no success response");
            foreach (var response in responses)
            {
                var hasContent = response.Value.TryGetProperty("content", out var content) && content.EnumerateObject().Any();
                if (response.Name.StartsWith('2'))
                {
                    if (response.Name is "202" or "204") continue; // no body by design
                    if (!hasContent || !content.EnumerateObject().All(c => c.Value.TryGetProperty("schema", out _)))
                        problems.Add($"{name} {response.Name}: no schema");
                }
                else if (!hasContent || !content.TryGetProperty("application/problem+json", out _))
                    problems.Add($"{name} {response.Name}: not problem details");
            }
            if (op.TryGetProperty("requestBody", out var body)
                && !body.GetProperty("content").EnumerateObject().All(c => c.Value.TryGetProperty("schema", out _)))
                problems.Add($"{name}: request body without schema");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task BearerSchemeIsDeclaredAndAppliedToTheApiRoutes()
    {
        var doc = await DocumentAsync();
        var scheme = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        foreach (var (path, method, op) in ApiOperations(doc))
        {
            Assert.True(op.TryGetProperty("security", out var security) && security.EnumerateArray().Any(r => r.TryGetProperty("Bearer", out _)),
                $"{method} {path} does not require the bearer scheme");
        }
    }

    [Fact]
    public async Task UploadsDeclareTheirMultipartFields()
    {
        var doc = await DocumentAsync();
        var upload = doc.GetProperty("paths").GetProperty("/api/users/{userId}/pictures").GetProperty("post");
        var schema = upload.GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
        Assert.Equal("binary", schema.GetProperty("properties").GetProperty("file").GetProperty("format").GetString());
        Assert.True(schema.GetProperty("properties").TryGetProperty("title", out _));
        Assert.Contains("file", schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("#/components/schemas/PictureJson",
            upload.GetProperty("responses").GetProperty("201").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var stage = doc.GetProperty("paths").GetProperty("/api/uploads").GetProperty("post");
        Assert.True(stage.GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema")
            .GetProperty("properties").TryGetProperty("file", out _));
    }

    [Fact]
    public async Task TheReferenceIsServedAtDocs()
    {
        var client = app.CreateClient();
        var page = await client.GetAsync("/docs/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("openapi/v1.json", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/docs/scalar.js")).StatusCode);
    }
}

[Trait("Category", "Api")]
public class ApiDocsDisabledTests(ApiDocsDisabledTests.NoDocsApplication app) : IClassFixture<ApiDocsDisabledTests.NoDocsApplication>
{
    public sealed class NoDocsApplication : PicturesApplication
    {
        public NoDocsApplication() => With("Docs:Enabled", "false");
    }

    [Fact]
    public async Task DocsCanBeTurnedOff()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().GetAsync("/docs/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync("/openapi/v1.json")).StatusCode);
    }
}
