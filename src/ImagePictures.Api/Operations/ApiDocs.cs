using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace ImagePictures.Api.Operations;

/// <summary>
/// The OpenAPI document at /openapi/v1.json and the interactive reference (Scalar) at /docs
/// (Docs:Enabled, default true). Routes declare their responses where they are mapped; this adds
/// the bearer scheme to every operation that needs a token and the multipart bodies of the upload
/// routes, which read their form themselves (an Accepts&lt;IFormFile&gt; would turn a non-multipart body
/// into 415 before the route can answer 400).
/// </summary>
public static class ApiDocs
{
    public const string BearerScheme = "Bearer";

    /// <summary>Marks a route whose body is multipart/form-data with a binary 'file' (and, when <see cref="WithTitle"/>, a 'title').</summary>
    public sealed record MultipartUpload(bool WithTitle);

    public static RouteHandlerBuilder AcceptsMultipartUpload(this RouteHandlerBuilder builder, bool withTitle) =>
        builder.WithMetadata(new MultipartUpload(withTitle));

    /// <summary>The errors every authenticated /api route may answer, as problem details.</summary>
    public static RouteGroupBuilder ProducesCommonProblems(this RouteGroupBuilder group) =>
        group.ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(503);

    public static void AddApiDocs(this IServiceCollection services) =>
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "ImagePictures";
                document.Info.Description = "Avatars and user pictures with live updates. Reference: docs/api.md in the repository.";
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A JWT from the OIDC provider (Auth:Authority) for the audience Auth:Audience; in Development, POST /dev/token.",
                };
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
                }
                if (metadata.OfType<MultipartUpload>().FirstOrDefault() is { } upload)
                    operation.RequestBody = MultipartBody(upload.WithTitle);
                return Task.CompletedTask;
            });
        });

    private static OpenApiRequestBody MultipartBody(bool withTitle)
    {
        var properties = new Dictionary<string, IOpenApiSchema>
        {
            ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "The image: JPEG, PNG, WebP, GIF (first frame), HEIC/AVIF." },
        };
        if (withTitle)
            properties["title"] = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 200, Description = "Optional title, at most 200 characters." };
        return new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["multipart/form-data"] = new OpenApiMediaType
                {
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Object, Required = new HashSet<string> { "file" }, Properties = properties },
                },
            },
        };
    }

    public static void MapApiDocs(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        if (app.Configuration.GetValue("Docs:Enabled", true))
            app.MapScalarApiReference("/docs", o => o.WithTitle("ImagePictures API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
    }
}
