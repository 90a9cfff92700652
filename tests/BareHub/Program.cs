using BareHub;

// A bare SignalR hub: no auth, no DB. Baseline for the fan-out benchmark.
// Listens on ASPNETCORE_URLS (or --urls).
var app = BareHubApp.Build(args);
app.Run();

/// <summary>Entry point; public so WebApplicationFactory&lt;Program&gt; can host it.</summary>
public partial class Program { }
