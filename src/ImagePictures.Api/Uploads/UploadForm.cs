using System.Buffers;
using System.Text;
using ImagePictures.Api.Pictures;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace ImagePictures.Api.Uploads;

/// <summary>
/// Reads a multipart upload straight from the request body into one native buffer, with the size
/// limit enforced while streaming: an oversized body is 413, a missing or empty 'file' field or a
/// malformed form is 400. ASP.NET Core's form reader would first copy a file of this size to a
/// temporary file and read it back, which cost up to half a second per 12 MP upload on a busy disk.
/// </summary>
public static class UploadForm
{
    private const long MultipartOverhead = 64 * 1024;
    private const int MaxSections = 16;
    private const int MaxTitleBytes = 4 * 1024;

    /// <summary>The uploaded file and title. Dispose it as soon as the bytes are no longer needed: that frees them.</summary>
    public sealed class Upload : IDisposable
    {
        private readonly UploadBuffer _buffer;
        private readonly int _length;

        internal Upload(UploadBuffer buffer, int length, string? title) => (_buffer, _length, Title) = (buffer, length, title);

        public ReadOnlyMemory<byte> Bytes => _buffer.Memory[.._length];
        public string? Title { get; }

        public void Dispose() => ((IDisposable)_buffer).Dispose();
    }

    public static async Task<Upload> ReadAsync(HttpRequest request, long maxBytes, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes + MultipartOverhead) throw TooLarge(maxBytes);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = maxBytes + MultipartOverhead;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            || !string.Equals(type.MediaType.Value, "multipart/form-data", StringComparison.OrdinalIgnoreCase))
            throw new BadHttpRequestException("Send the picture as multipart/form-data with a 'file' field.");
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrEmpty(boundary) || boundary.Length > 70)
            throw new BadHttpRequestException("The multipart/form-data body has no valid boundary.");

        var reader = new MultipartReader(boundary, request.Body) { HeadersCountLimit = 16, HeadersLengthLimit = 16 * 1024 };
        UploadBuffer? file = null;
        var fileLength = 0;
        string? title = null;
        try
        {
            var sections = 0;
            long read = 0;
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (++sections > MaxSections) throw new BadHttpRequestException($"The form has more than {MaxSections} fields.");
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                    throw new BadHttpRequestException("The multipart/form-data body is malformed: a part has no form-data Content-Disposition.");
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (name == "file" && file is null)
                {
                    (file, fileLength) = await ReadFileAsync(section.Body, request.ContentLength, maxBytes, ct);
                    read += fileLength;
                }
                else if (name == "title" && title is null)
                {
                    var buffer = ArrayPool<byte>.Shared.Rent(MaxTitleBytes + 1);
                    try
                    {
                        var length = await ReadUpToAsync(section.Body, buffer.AsMemory(0, MaxTitleBytes + 1), ct);
                        title = length > MaxTitleBytes ? throw TitleTooLong() : Encoding.UTF8.GetString(buffer, 0, length);
                        read += length;
                    }
                    finally { ArrayPool<byte>.Shared.Return(buffer); }
                    if (PictureTitles.Problem(title) is { } problem) throw new BadHttpRequestException(problem);
                }
                else
                {
                    // Unknown or repeated fields are read past, within the same overall limit.
                    read += await DrainAsync(section.Body, maxBytes + MultipartOverhead - read, ct);
                }
                if (read > maxBytes + MultipartOverhead) throw TooLarge(maxBytes);
            }
            if (file is null) throw new BadHttpRequestException("The form has no 'file' field: send the picture in a multipart field named 'file'.");
            if (fileLength == 0) throw new BadHttpRequestException("The uploaded file is empty.");
            return new Upload(file, fileLength, string.IsNullOrWhiteSpace(title) ? null : title);
        }
        catch (Exception e)
        {
            if (file is not null) ((IDisposable)file).Dispose();
            // Also the server's own body limit, set above: answer with the upload limit rather than a generic message.
            if (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }) throw TooLarge(maxBytes);
            if (e is (InvalidDataException or IOException) and not BadHttpRequestException)
                throw new BadHttpRequestException("The multipart/form-data body is malformed.");
            throw;
        }
    }

    /// <summary>Reads the file part; more than <paramref name="maxBytes"/> is 413 as soon as the limit is crossed.</summary>
    private static async Task<(UploadBuffer Buffer, int Length)> ReadFileAsync(Stream body, long? contentLength, long maxBytes, CancellationToken ct)
    {
        // With a Content-Length the whole file fits the first buffer; without one (chunked), it grows.
        var buffer = new UploadBuffer((int)Math.Clamp(contentLength ?? 256 * 1024, 4 * 1024, maxBytes + 1));
        var length = 0;
        try
        {
            while (length <= maxBytes)
            {
                if (length == buffer.Capacity) buffer.Grow((int)Math.Min((long)buffer.Capacity * 2, maxBytes + 1));
                var n = await body.ReadAsync(buffer.Memory[length..(int)Math.Min(buffer.Capacity, maxBytes + 1)], ct);
                if (n == 0) break;
                length += n;
            }
            if (length > maxBytes) throw TooLarge(maxBytes);
            return (buffer, length);
        }
        catch
        {
            ((IDisposable)buffer).Dispose();
            throw;
        }
    }

    /// <summary>Reads until <paramref name="into"/> is full or the part ends; returns the number of bytes read.</summary>
    private static async Task<int> ReadUpToAsync(Stream body, Memory<byte> into, CancellationToken ct)
    {
        var length = 0;
        int n;
        while (length < into.Length && (n = await body.ReadAsync(into[length..], ct)) > 0) length += n;
        return length;
    }

    private static async Task<long> DrainAsync(Stream body, long max, CancellationToken ct)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            long total = 0;
            int n;
            while ((n = await body.ReadAsync(scratch, ct)) > 0)
                if ((total += n) > max) break;
            return total;
        }
        finally { ArrayPool<byte>.Shared.Return(scratch); }
    }

    private static BadHttpRequestException TitleTooLong() => new($"The title is longer than {PictureTitles.MaxLength} characters.");

    private static BadHttpRequestException TooLarge(long maxBytes) =>
        new($"The upload is larger than {maxBytes / (1024 * 1024.0):0.#} MiB; send a smaller image.", StatusCodes.Status413PayloadTooLarge);
}
