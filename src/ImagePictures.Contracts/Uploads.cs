namespace ImagePictures.Contracts;

/// <summary>
/// A staged (two-step) upload. SuggestedCrop: the square the service keeps when the commit names no crop (its smart crop),
/// in staged-image pixels.
/// </summary>
public sealed record StagedUploadJson(Guid Id, DateTime ExpiresAt, int Width, int Height, string PreviewUrl, CropJson SuggestedCrop);

/// <summary>A crop rectangle in staged-image pixels.</summary>
public sealed record CropJson(int X, int Y, int Width, int Height);

/// <summary>The body of POST /api/uploads/{uploadId}/commit.</summary>
public sealed record CommitRequest(bool Activate = false, CropJson? Crop = null);
