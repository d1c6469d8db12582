using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Grains.Members;

namespace MyPay.Api.Auth;

public static class TokenEndpoints
{
    public static WebApplication MapAuth(this WebApplication app)
    {
        app.MapPost("/v1/auth/token", IssueTokenAsync).AllowAnonymous()
            .WithName("IssueToken").WithTags(ApiTags.SignIn)
            .WithSummary("Sign in: an e-mail and password for a bearer token")
            .WithDescription("A member signs in with the e-mail they registered (`username`) and their password; the operator with the operator username. The `accessToken` goes in `Authorization: Bearer <token>`.")
            .ProducesProblemFor(StatusCodes.Status401Unauthorized, "`invalid-credentials`: the username or password is wrong.")
            .ProducesProblemFor(StatusCodes.Status403Forbidden, "`member-suspended`: the member is suspended.");
        return app;
    }

    /// <summary>Credentials to a bearer token: a member signs in with their email, the operator with the operator username.</summary>
    private static async Task<Results<Ok<TokenIssuer.TokenResponse>, ProblemHttpResult>> IssueTokenAsync(
        TokenRequest request, MemberRegistry members, Passwords passwords, TokenIssuer tokens, OperatorCredentials operatorCredentials)
    {
        // No username holds a control character, and PostgreSQL's text cannot even be asked about a NUL.
        if (string.IsNullOrEmpty(request.Username) || request.Username.Any(char.IsControl)
            || string.IsNullOrEmpty(request.Password) || request.Password.Length > MemberRules.PasswordLengthMax)
        {
            return InvalidCredentials();
        }

        if (operatorCredentials.IsOperator(request.Username))
        {
            return operatorCredentials.Verify(request.Username, request.Password)
                ? TypedResults.Ok(tokens.Issue(Roles.Operator, Roles.Operator))
                : InvalidCredentials();
        }

        var found = request.Username.Length <= MemberRules.EmailLengthMax ? await members.FindForSignInAsync(request.Username) : null;
        if (!passwords.Verify(found?.PasswordHash, request.Password) || found is not { Profile: var profile })
        {
            return InvalidCredentials();
        }

        return profile.Status == MemberStatus.Suspended
            ? Problems.Problem(StatusCodes.Status403Forbidden, "member-suspended", "The member is suspended.", $"Member {profile.Id} is suspended; contact support.")
            : TypedResults.Ok(tokens.Issue(profile.Id, profile.Type == MemberType.Merchant ? Roles.Merchant : Roles.Customer));
    }

    private static ProblemHttpResult InvalidCredentials() => Problems.Problem(
        StatusCodes.Status401Unauthorized, "invalid-credentials", "The username or password is wrong.", "Check the email (or operator username) and password.");

    public sealed record TokenRequest(string? Username, string? Password);
}
