namespace MyPay.Api.Hosting;

/// <summary>The shape of a member id in a route: 1 to 64 letters, digits, '-' or '_'.</summary>
public static class MemberIds
{
    public const int LengthMax = 64;

    public static bool IsValid(string memberId) =>
        memberId.Length is > 0 and <= LengthMax && memberId.All(character => char.IsAsciiLetterOrDigit(character) || character is '-' or '_');

    public static ProblemHttpResult Invalid(string memberId) => Problems.Problem(
        StatusCodes.Status400BadRequest,
        "invalid-member-id",
        "The member id is not valid.",
        $"A member id is 1 to {LengthMax} letters, digits, '-' or '_'; {memberId.Length switch
        {
            0 => "the id is missing",
            > LengthMax => $"got more than {LengthMax} characters",
            _ => $"got {memberId.Length} characters, not all of them allowed",
        }}.");
}
