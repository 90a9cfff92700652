using System.Text.Json;

namespace ImagePictures.Components;

/// <summary>
/// An event of &lt;avatar-editor&gt;: Type is change, upload, error or close; Detail is the event's detail as JSON
/// (change: {event} or {picture}; upload: {picture, crop}; error: {status, title, detail}; close: null).
/// </summary>
public sealed record AvatarEditorEvent(string Type, JsonElement Detail);
