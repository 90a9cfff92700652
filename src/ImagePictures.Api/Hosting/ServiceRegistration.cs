using ImagePictures.Api.Administration;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Clients;
using ImagePictures.Api.Avatars;
using ImagePictures.Api.Gravatar;
using ImagePictures.Api.Database;
using ImagePictures.Api.Events;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Storage;
using ImagePictures.Api.Trash;
using ImagePictures.Api.Users;
using ImagePictures.Api.Uploads;
using ImagePictures.Dashboard;
using ImagePictures.Imaging;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Hosting;

/// <summary>Every registration of the service, in one place.</summary>
public static class ServiceRegistration
{
    public static void AddPicturesServices(this WebApplicationBuilder builder)
    {
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
        builder.AddTopLevelSettings();
        builder.AddPicturesDatabase();
        builder.AddPicturesAuth();
        builder.AddUploads();
        builder.AddPicturesHealthChecks();
        builder.AddRealtime();
        builder.AddApiCors();
        builder.AddPicturesTelemetry();
        builder.AddReverseProxy();
        builder.AddEvents();

        var services = builder.Services;
        builder.AddPictures();
        builder.AddTrash();
        builder.AddUsers();
        builder.AddPictureStorage();
        builder.AddAvatars();
        builder.AddGravatar();

        // Scheduled jobs (Hangfire on our PostgreSQL, dashboard at /hangfire) and the admin page.
        builder.AddPicturesJobs();
        services.AddScoped<IAdminDashboardService, AdminDashboardService>();
        services.AddRazorComponents().AddInteractiveServerComponents();

        // Binding failures become exceptions so that ProblemExceptionHandler answers them with problem details.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.Customize);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        // Numbers are JSON numbers: the web defaults also read "12" as 12, which no client needs and
        // which turns every integer of the OpenAPI document into an integer-or-string union.
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict);
        services.AddApiDocs();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            k.AddServerHeader = false; // no "Server: Kestrel"
        });
    }

    /// <summary>Applies the migrations before the service takes its first request; a failure stops the start.</summary>
    public static async Task PrepareAsync(this WebApplication app)
    {
        await app.Services.GetRequiredService<Migrator>().MigrateAsync();
        await app.Services.GetRequiredService<DefaultAvatar>().GetAsync();
    }
}
