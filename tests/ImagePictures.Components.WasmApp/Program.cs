using ImagePictures.Components.WasmApp;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Components.WebAssembly.Hosting;

var builder = WebAssemblyHostBuilder.CreateDefault(args);
builder.RootComponents.Add<App>("#app");
// The service's address comes from the page's query string (?service=…&users=…), set by the test.
builder.Services.AddImagePicturesClient((sp, o) =>
    o.BaseAddress = new Uri(PageQuery.Get(sp.GetRequiredService<NavigationManager>(), "service") ?? builder.HostEnvironment.BaseAddress));
// The site's own backend (the page's origin): AvatarEditor's token comes from its /token.
builder.Services.AddScoped(_ => new HttpClient { BaseAddress = new Uri(builder.HostEnvironment.BaseAddress) });
await builder.Build().RunAsync();
