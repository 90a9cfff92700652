using ImagePictures.Api.Auth;
using ImagePictures.Api.Avatars;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Sample;
using ImagePictures.Api.Users;

var builder = WebApplication.CreateBuilder(args);
builder.AddPicturesServices();

var app = builder.Build();
await app.PrepareAsync();

app.UseExceptionHandler();
app.UseStatusCodePages(); // bodiless errors (unknown route, 405) become problem details too
app.UseBrowserSample();
app.UseRedactedRequestLogging();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();

app.MapHealth();
app.MapOpenApi("/openapi/{documentName}.json");
app.MapDevTokens();
app.MapPictures();
app.MapUsers();
app.MapAvatars();

app.Run();

public partial class Program;
