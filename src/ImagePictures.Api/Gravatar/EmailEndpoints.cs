using ImagePictures.Api.Auth;
using ImagePictures.Api.Operations;

namespace ImagePictures.Api.Gravatar;

/// <summary>A user's e-mail addresses for /avatar/{hash}: the owner, an admin, or the sign-up service (scope pictures:provision).</summary>
public static class EmailEndpoints
{
    public sealed record EmailsRequest(string[]? Emails);

    public static void MapEmails(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/users/{userId}/emails").RequireAuthorization().WithTags("Users").ProducesCommonProblems();
        group.MapPut("", Replace).WithName("ReplaceEmails")
            .WithSummary("Replace the user's e-mail addresses (at most 10); only their MD5 and SHA-256 are stored")
            .Accepts<EmailsRequest>("application/json")
            .Produces<List<EmailAddresses.EmailJson>>().ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("", List).WithName("ListEmails").WithSummary("The hashes of the user's e-mail addresses")
            .Produces<List<EmailAddresses.EmailJson>>();
        group.MapDelete("/{hash}", Remove).WithName("RemoveEmail").WithSummary("Remove one address, by its MD5 or SHA-256")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<IResult> Replace(ProvisionTarget target, EmailsRequest? body, EmailAddresses emails, CancellationToken ct)
    {
        if (body?.Emails is not { } list)
            return Problems.Result(400, "Missing emails", "Send {\"emails\":[\"a@example.com\"]}: the user's whole set of addresses (an empty list removes them all).");
        if (list.Length > EmailAddresses.MaxPerUser)
            return Problems.Result(400, "Too many addresses", $"A user may register at most {EmailAddresses.MaxPerUser} addresses; {list.Length} were sent.");
        for (var i = 0; i < list.Length; i++)
            if (!EmailAddresses.IsValid(list[i]))
                return Problems.Result(400, "Invalid e-mail address", $"emails[{i}] is not a single e-mail address of the form name@domain.");
        try
        {
            return Results.Ok(await emails.ReplaceAsync(target.Id, list, ct));
        }
        catch (EmailAddresses.HeldByAnotherUserException e)
        {
            return Problems.Result(409, "Address registered by another user", e.Message);
        }
    }

    private static async Task<IResult> List(ProvisionTarget target, EmailAddresses emails, CancellationToken ct) =>
        Results.Ok(await emails.ListAsync(target.Id, ct));

    private static async Task<IResult> Remove(ProvisionTarget target, string hash, EmailAddresses emails, CancellationToken ct)
    {
        if (EmailAddresses.NormalizeHash(hash) is not { } normalized)
            return Problems.Result(400, "Invalid hash", "The hash is the MD5 (32 hex digits) or SHA-256 (64 hex digits) of the address, as GET …/emails lists them.");
        return await emails.RemoveAsync(target.Id, normalized, ct)
            ? Results.NoContent()
            : Problems.NotFound("This user has no address with that hash.");
    }
}
