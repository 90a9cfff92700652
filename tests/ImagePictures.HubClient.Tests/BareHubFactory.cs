using BareHub;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ImagePictures.HubClient.Tests;

/// <summary>Hosts BareHub in-memory. BareHubMarker (not Program) names the entry assembly.</summary>
public sealed class BareHubFactory : WebApplicationFactory<BareHubMarker>
{
}
