using ImagePictures.Api.Administration;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Avatars;
using ImagePictures.Api.EventLog;
using ImagePictures.Api.Events;
using ImagePictures.Api.Clients;
using ImagePictures.Api.Database;
using ImagePictures.Api.Gravatar;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Sample;
using ImagePictures.Api.Storage;
using ImagePictures.Api.Trash;
using ImagePictures.Api.Uploads;
using ImagePictures.Api.Users;

var builder = WebApplication.CreateBuilder(args);
builder.AddTopLevelSettings();
builder.AddPicturesDatabase();
builder.AddPicturesAuth();
builder.AddProblemResponses();
builder.AddPicturesTelemetry();
builder.AddPicturesHealthChecks();
builder.AddReverseProxy();
builder.AddApiDocs();
builder.AddApiCors();
builder.AddPictureStorage();
builder.AddPictures();
builder.AddTrash();
builder.AddUsers();
builder.AddUploads();
builder.AddAvatars();
builder.AddGravatar();
builder.AddRealtime();
builder.AddEvents();
builder.AddPicturesJobs();
builder.AddAdmin();

var app = builder.Build();
// A wrong or missing setting stops the start here, before any work or listening, one line per setting.
if (!app.SettingsAreValid(Console.Error)) return 1;
await app.PrepareAsync();

app.UseReverseProxy();
app.UseHtmlSecurityHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages(); // bodiless errors (unknown route, 405) become problem details too
app.UseBrowserSample();
// The dashboard's css (_content/…) and blazor.web.js; middleware rather than MapStaticAssets, whose
// catch-all route would turn unknown POST routes into 405.
app.UseStaticFiles();
app.UseRedactedRequestLogging();
app.UseRealtime();
app.UseApiCors();
app.UseAuthentication();
app.UseVerifiedEmailClaims();
app.UseAuthorization();
app.UseRateLimiter();
app.UseAntiforgery();

app.MapLandingPage();
app.MapHealth();
app.MapMetrics();
app.MapApiDocs();
app.MapDevTokens();
app.MapPictures();
app.MapUsers();
app.MapAvatars();
app.MapGravatar();
app.MapClientScripts();
app.MapTrash();
app.MapUploads();
app.MapAdmin();
app.MapRealtime();
app.MapEvents();

app.Run();
return 0;

public partial class Program;
