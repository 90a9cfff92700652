using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ImagePictures.Api.Hosting;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace ImagePictures.Api.Operations;

/// <summary>
/// The OpenAPI document at /openapi/v1.json and the interactive reference (Scalar) at /docs
/// (Docs:Enabled, default true). Routes declare their responses where they are mapped; the
/// transformers here add what every route shares, so that a route added later is described as fully
/// as the others: its path parameters, the bearer scheme, the headers of 201/429/503, a description,
/// the tag texts and the enums of string fields marked [AllowedValues]. The checks of the document
/// (Redocly, Spectral, a strict TypeScript client) live in tests/openapi/.
/// </summary>
public static partial class ApiDocs
{
    public const string BearerScheme = "Bearer";

    /// <summary>Marks a route whose body is multipart/form-data with a binary 'file' (and, when <see cref="WithTitle"/>, a 'title').</summary>
    public sealed record MultipartUpload(bool WithTitle);

    /// <summary>A query or header parameter of a route that reads it itself (the image routes).</summary>
    public sealed record DocumentedParameter(string Name, ParameterLocation In, JsonSchemaType Type, string Description);

    /// <summary>A response header a route sets itself (ETag, Cache-Control …), for every response with the given status.</summary>
    public sealed record ResponseHeader(int Status, string Name, string Description);

    public static RouteHandlerBuilder AcceptsMultipartUpload(this RouteHandlerBuilder builder, bool withTitle) =>
        builder.WithMetadata(new MultipartUpload(withTitle));

    public static TBuilder WithQueryParameter<TBuilder>(this TBuilder builder, string name, JsonSchemaType type, string description) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new DocumentedParameter(name, ParameterLocation.Query, type, description));

    public static TBuilder WithHeaderParameter<TBuilder>(this TBuilder builder, string name, string description) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new DocumentedParameter(name, ParameterLocation.Header, JsonSchemaType.String, description));

    public static TBuilder WithResponseHeader<TBuilder>(this TBuilder builder, int status, string name, string description) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ResponseHeader(status, name, description));

    /// <summary>The errors every authenticated /api route may answer, as problem details.</summary>
    public static RouteGroupBuilder ProducesCommonProblems(this RouteGroupBuilder group) =>
        group.ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(503);

    /// <summary>What each tag covers; a tag missing here is described by the summaries of its operations.</summary>
    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Pictures"] = "A user's pictures: upload, list, rename, trash, and which one is the avatar. Every route acts on one user: the caller ('me'), or anyone for an admin.",
        ["Trash"] = "Trashed pictures: list, restore, purge one, or empty the trash. The trash-purge job deletes what stays past Trash:RetentionDays.",
        ["Uploads"] = "Two-step uploads: stage an image, preview it, then commit it with an optional crop (or abandon it). Staged uploads expire after Uploads:TempTtlHours.",
        ["Users"] = "A user as a whole: the provisioned default picture, and deleting every picture and file of an account.",
        ["Events"] = "The per-user event log: what the hub pushed live, for clients that missed it (after a reconnect).",
        ["Admin"] = "Administration (role admin): staged uploads, scheduled jobs and webhook endpoints.",
        ["Images"] = "The public image routes used in <img> tags: no token, cacheable, WebP when the browser accepts it.",
    };

    /// <summary>Path parameters the handlers do not bind by name (the route groups' {userId} is bound through Owner).</summary>
    private static readonly Dictionary<string, string> PathParameterDescriptions = new()
    {
        ["userId"] = "The user: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit; 'me' is the caller.",
        ["pictureId"] = "The picture's id.",
        ["uploadId"] = "The staged upload's id.",
        ["name"] = "The job's name: trash-purge, temp-cleanup, orphan-sweep or event-prune.",
        ["id"] = "The webhook endpoint's id.",
        ["size"] = "A configured size in pixels (Pictures:Sizes).",
    };

    [GeneratedRegex(@"\{([A-Za-z0-9_]+)(?::[^}]*)?\}")]
    private static partial Regex RouteParameter();

    public static void AddApiDocs(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<DocsOptions>(DocsOptions.Section);
        services.AddOpenApi(o =>
        {
            o.AddDocumentTransformer((document, _, _) =>
            {
                DescribeDocument(document);
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                DescribeOperation(operation, context);
                return Task.CompletedTask;
            });
            o.AddSchemaTransformer((schema, context, _) =>
            {
                // [AllowedValues("a", "b")] on a string property becomes its enum (event types, job-run statuses, clean-up actions).
                var allowed = context.JsonPropertyInfo?.AttributeProvider?.GetCustomAttributes(typeof(AllowedValuesAttribute), true)
                    .OfType<AllowedValuesAttribute>().FirstOrDefault();
                if (allowed is not null)
                    schema.Enum = allowed.Values.Select(v => (JsonNode)JsonValue.Create(v?.ToString())!).ToList();
                // [Required] on a settable property: the body must name it, even as null (RenameRequest.Title).
                foreach (var property in context.JsonPropertyInfo is null ? context.JsonTypeInfo.Properties : [])
                {
                    if (property.AttributeProvider?.IsDefined(typeof(RequiredAttribute), true) == true)
                        (schema.Required ??= new HashSet<string>()).Add(property.Name);
                }
                return Task.CompletedTask;
            });
        });
    }

    private static void DescribeDocument(OpenApiDocument document)
    {
        document.Info.Title = "ImagePictures";
        document.Info.Description = """
            A self-hosted avatar service: users upload pictures and pick one as their avatar, which
            `/avatars/{userId}` serves to any `<img>` tag and which updates live on every page that
            shows it (SignalR hub `/hubs/pictures`). Changes are also published as events (webhooks,
            RabbitMQ). JSON routes need a bearer token; errors are RFC 9457 problem details.
            The guide is docs/api.md in the repository.
            """;
        document.Info.License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" };
        document.Info.Contact = new OpenApiContact { Name = "The ImagePictures maintainers (see README.md in the repository)" };
        // Relative: the document describes whichever instance serves it, so a generated client
        // does not bake in the host that happened to fetch it.
        document.Servers = [new OpenApiServer { Url = "/", Description = "The service that serves this document." }];

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "A JWT from the OIDC provider (Auth:Authority) for the audience Auth:Audience; in Development, POST /dev/token.",
        };

        var operations = (document.Paths ?? []).SelectMany(p => p.Value.Operations ?? []).Select(o => o.Value).ToList();
        var tags = operations.SelectMany(o => o.Tags ?? new HashSet<OpenApiTagReference>()).Select(t => t.Name).OfType<string>().Distinct().Order();
        document.Tags = new HashSet<OpenApiTag>(tags.Select(name => new OpenApiTag
        {
            Name = name,
            Description = TagDescriptions.TryGetValue(name, out var text) ? text
                : string.Join("; ", operations.Where(o => o.Tags?.Any(t => t.Name == name) == true).Select(o => o.Summary)) + ".",
        }));
    }

    private static void DescribeOperation(OpenApiOperation operation, Microsoft.AspNetCore.OpenApi.OpenApiOperationTransformerContext context)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var needsToken = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();
        if (needsToken)
        {
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
        }
        else operation.Security = []; // said explicitly: this route needs no token
        if (metadata.OfType<MultipartUpload>().FirstOrDefault() is { } upload)
            operation.RequestBody = MultipartBody(upload.WithTitle);

        operation.Parameters ??= [];
        foreach (Match match in RouteParameter().Matches(context.Description.RelativePath ?? ""))
        {
            var name = match.Groups[1].Value;
            if (operation.Parameters.Any(p => p.Name == name && p.In == ParameterLocation.Path)) continue;
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name, In = ParameterLocation.Path, Required = true,
                Description = PathParameterDescriptions.GetValueOrDefault(name),
                Schema = name == "userId"
                    ? new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" }
                    : new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
        foreach (var parameter in operation.Parameters.OfType<OpenApiParameter>().Where(p => p.Description is null))
            parameter.Description = PathParameterDescriptions.GetValueOrDefault(parameter.Name ?? "");
        foreach (var extra in metadata.OfType<DocumentedParameter>())
            operation.Parameters.Add(new OpenApiParameter { Name = extra.Name, In = extra.In, Description = extra.Description, Schema = new OpenApiSchema { Type = extra.Type } });

        operation.Description ??= DefaultDescription(operation, needsToken, metadata);
        if (context.Description.HttpMethod == HttpMethods.Head)
        {
            // A route mapped for GET and HEAD: the HEAD operation needs its own id, and answers no body.
            operation.OperationId = "Head" + operation.OperationId;
            foreach (var response in (operation.Responses ?? []).Values.OfType<OpenApiResponse>()) response.Content = null;
        }
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response is not OpenApiResponse concrete) continue;
            concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
            if (status == "201") concrete.Headers["Location"] = Header("The address of what was created.");
            if (status is "429" or "503") concrete.Headers["Retry-After"] = Header("Seconds to wait before trying again.", JsonSchemaType.Integer);
            foreach (var header in metadata.OfType<ResponseHeader>().Where(h => h.Status.ToString() == status))
                concrete.Headers[header.Name] = Header(header.Description);
            if (concrete.Headers.Count == 0) concrete.Headers = null;
        }
    }

    /// <summary>The summary, who may call the route, and where the guide is: for routes without a description of their own.</summary>
    private static string DefaultDescription(OpenApiOperation operation, bool needsToken, IList<object> metadata)
    {
        var who = !needsToken ? "No token needed."
            : metadata.OfType<IAuthorizeData>().Any(a => a.Policy is not null) ? "Needs a bearer token with the role admin."
            : "Needs a bearer token; a caller acts on their own user ('me') unless they have the role admin.";
        return $"{operation.Summary}. {who} Errors are problem details (RFC 9457). See docs/api.md.";
    }

    private static OpenApiHeader Header(string description, JsonSchemaType type = JsonSchemaType.String) =>
        new() { Description = description, Schema = new OpenApiSchema { Type = type } };

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
        if (app.Services.GetRequiredService<IOptions<DocsOptions>>().Value.Enabled)
            app.MapScalarApiReference("/docs", o => o.WithTitle("ImagePictures API").WithOpenApiRoutePattern("/openapi/{documentName}.json"));
    }
}
