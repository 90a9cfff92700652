using Microsoft.AspNetCore.Http.Features;

namespace ImagePictures.Api.Pictures;

/// <summary>
/// Reads a multipart upload with the size limit enforced while streaming, before anything is
/// buffered past the limit: an oversized body is 413, a missing or empty 'file' field is 400.
/// </summary>
public static class UploadForm
{
    private const long MultipartOverhead = 64 * 1024;

    public sealed record Upload(byte[] Bytes, string? Title);

    public static async Task<Upload> ReadAsync(HttpRequest request, long maxBytes, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes + MultipartOverhead) throw TooLarge(maxBytes);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = maxBytes + MultipartOverhead;
        if (!request.HasFormContentType)
            throw new BadHttpRequestException("Send the picture as multipart/form-data with a 'file' field.");

        IFormCollection form;
        try
        {
            var options = new FormOptions { MultipartBodyLengthLimit = maxBytes + MultipartOverhead, ValueCountLimit = 16, KeyLengthLimit = 64 };
            form = await new FormFeature(request, options).ReadFormAsync(ct);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            throw TooLarge(maxBytes);
        }
        catch (InvalidDataException)
        {
            throw new BadHttpRequestException("The multipart/form-data body is malformed.");
        }

        var file = form.Files["file"] ?? throw new BadHttpRequestException("The form has no 'file' field: send the picture in a multipart field named 'file'.");
        if (file.Length == 0) throw new BadHttpRequestException("The uploaded file is empty.");
        if (file.Length > maxBytes) throw TooLarge(maxBytes);

        var title = form["title"].FirstOrDefault();
        if (title is { Length: > 200 }) throw new BadHttpRequestException("The title is longer than 200 characters.");
        if (string.IsNullOrWhiteSpace(title)) title = null;

        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
            await stream.ReadExactlyAsync(bytes, ct);
        return new Upload(bytes, title);
    }

    private static BadHttpRequestException TooLarge(long maxBytes) =>
        new($"The upload is larger than {maxBytes / (1024 * 1024.0):0.#} MiB; send a smaller image.", StatusCodes.Status413PayloadTooLarge);
}
