namespace ImagePictures.Client;

/// <summary>The answer of <see cref="ImagePicturesClient.CreateDefaultPictureAsync"/>: the picture, and whether this call created it.</summary>
public sealed record DefaultPicture(PictureJson Picture, bool Created);

/// <summary>Bytes of an upload sent so far, and the total when the stream knows its length.</summary>
public readonly record struct UploadProgress(long BytesSent, long? TotalBytes);
