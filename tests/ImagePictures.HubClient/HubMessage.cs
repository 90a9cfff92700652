using System.Text.Json;

namespace ImagePictures.HubClient;

/// <summary>One server-to-client invocation (message type 1). Arguments are cloned and outlive the parsed record.</summary>
public sealed record HubMessage(string Target, JsonElement[] Arguments, DateTimeOffset ReceivedAt)
{
    /// <summary>The first argument, deserialized (camelCase-insensitive web defaults).</summary>
    public T Arg<T>(int index = 0) => Arguments[index].Deserialize<T>(HubTestClient.JsonOptions)!;
}

/// <summary>The server answered an invocation with a Completion carrying "error".</summary>
public sealed class HubInvocationException : Exception
{
    public HubInvocationException(string message) : base(message) { }
}

/// <summary>Negotiate refused (StatusCode set, e.g. 401), the WebSocket upgrade failed, or the handshake answered an error.</summary>
public sealed class HubConnectException : Exception
{
    public HubConnectException(string message, int? statusCode = null, Exception? inner = null) : base(message, inner)
        => StatusCode = statusCode;

    public int? StatusCode { get; }
}
