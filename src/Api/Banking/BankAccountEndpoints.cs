using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Grains.Banking;
using MyPay.Grains.Members;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Banking;

public static class BankAccountEndpoints
{
    public static WebApplication MapBankAccounts(this WebApplication app)
    {
        var accounts = app.MapGroup("/v1/members/{memberId}/bank-accounts").WithTags(ApiTags.BankAccounts);
        accounts.MapPost("/", LinkAsync).RequireSelf()
            .WithName("LinkBankAccount").WithSummary("Link a bank account")
            .WithDescription("`bankCode` (3 digits) and `accountNumber` (digits and dashes). The bank confirms the account exists, is open and is held in the member's name: 201 when linked, 200 when it was linked already.")
            .ProducesValidationProblemFor("`invalid-bank-account`: the bank code or account number is malformed; `errors` names each.")
            .ProducesProblemFor(StatusCodes.Status403Forbidden, "`member-suspended`: the member is suspended.")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-member`: no member has the id.")
            .ProducesProblemFor(StatusCodes.Status422UnprocessableEntity, "`too-many-bank-accounts`: the member has linked the most accounts allowed; `unknown-bank-account`, `bank-account-closed`, `holder-mismatch`: the bank did not confirm the account.")
            .ProducesProblemFor(StatusCodes.Status503ServiceUnavailable, "`bank-unavailable`: the bank did not answer.");
        accounts.MapGet("/", ListAsync).RequireSelfOrOperator()
            .WithName("ListBankAccounts").WithSummary("List a member's linked bank accounts");
        return app;
    }

    private static async Task<Results<Created<BankAccountResponse>, Ok<BankAccountResponse>, ValidationProblem, ProblemHttpResult>> LinkAsync(
        string memberId, LinkRequest request, BankAccountLinker linker, CancellationToken cancellationToken)
    {
        if (BankAccountRules.Check(request.BankCode, request.AccountNumber) is { Count: > 0 } errors)
        {
            return TypedResults.ValidationProblem(errors, title: "The bank account is not valid.", type: Problems.TypeBase + "invalid-bank-account");
        }

        var result = await linker.LinkAsync(memberId, new BankAccountNumber(request.BankCode!, request.AccountNumber!), cancellationToken);
        return result switch
        {
            { Status: LinkStatus.Linked, Account: { } linked } => TypedResults.Created($"/v1/members/{memberId}/bank-accounts", BankAccountResponse.From(linked)),
            { Status: LinkStatus.AlreadyLinked, Account: { } linked } => TypedResults.Ok(BankAccountResponse.From(linked)),
            { Status: LinkStatus.MemberSuspended } => Problems.Problem(
                StatusCodes.Status403Forbidden, "member-suspended", "A suspended member cannot link bank accounts.", $"Member {memberId} is suspended."),
            { Status: LinkStatus.TooManyAccounts } => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "too-many-bank-accounts", "Too many linked bank accounts.", $"A member links at most {MemberGrain.BankAccountsMax} accounts."),
            { Status: LinkStatus.UnknownMember } => Problems.Problem(
                StatusCodes.Status404NotFound, "unknown-member", "No such member.", $"No member has id {memberId}."),
            { Refusal: BankRefusal.AccountNotFound } => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "unknown-bank-account", "The bank has no such account.", $"Bank {request.BankCode} has no account {request.AccountNumber}."),
            { Refusal: BankRefusal.AccountClosed } => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "bank-account-closed", "The bank account is closed.", $"Account {request.AccountNumber} at bank {request.BankCode} is closed."),
            { Refusal: BankRefusal.HolderMismatch } => Problems.Problem(
                StatusCodes.Status422UnprocessableEntity, "holder-mismatch", "The account is held in another name.", "Only an account in the member's own name can be linked."),
            _ => Problems.Problem(
                StatusCodes.Status503ServiceUnavailable, "bank-unavailable", "The bank did not answer.", "The account could not be checked; try again later."),
        };
    }

    private static async Task<Ok<BankAccountResponse[]>> ListAsync(string memberId, IGrainFactory grains) =>
        TypedResults.Ok((await grains.GetGrain<IMemberGrain>(memberId).GetBankAccounts()).Select(BankAccountResponse.From).ToArray());

    public sealed record LinkRequest(string? BankCode, string? AccountNumber);

    public sealed record BankAccountResponse(string BankCode, string AccountNumber, string HolderName, DateTimeOffset LinkedAt)
    {
        public static BankAccountResponse From(LinkedBankAccount account) => new(account.BankCode, account.AccountNumber, account.HolderName, account.LinkedAt);
    }
}
