using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Grains.Members;
using MyPay.Grains.Payments;
using IGrainFactory = Orleans.IGrainFactory;

namespace MyPay.Api.Members;

public static class MemberEndpoints
{
    public static WebApplication MapMembers(this WebApplication app)
    {
        var members = app.MapGroup("/v1/members").WithTags(ApiTags.Members);
        members.MapPost("/", RegisterAsync).AllowAnonymous()
            .WithName("RegisterMember").WithSummary("Register a customer or merchant")
            .WithDescription("Public. `type` is `customer` or `merchant`; the e-mail is the member's sign-in name and must be unused; the password is 8 to 128 characters.")
            .ProducesValidationProblemFor("`invalid-member`: a field is missing or malformed; `errors` names each.")
            .ProducesProblemFor(StatusCodes.Status409Conflict, "`email-taken`: another member has the e-mail.");
        members.MapGet("/{memberId}", GetAsync).RequireSelfOrOperator()
            .WithName("GetMember").WithSummary("Read a member")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-member`: no member has the id.");
        members.MapMethods("/{memberId}", [HttpMethods.Patch], ChangeAsync).RequireSelfOrOperator()
            .WithName("ChangeMember").WithSummary("Change a member's name, e-mail or address, or (operators) status")
            .WithDescription("A member changes `name`, `email` and `address`; an operator changes `status` (`active` or `suspended`). Fields left out stay as they are.")
            .ProducesValidationProblemFor("`invalid-member`: a field is malformed; `errors` names each.")
            .ProducesProblemFor(StatusCodes.Status403Forbidden, "`forbidden`: a member changing `status`, or an operator changing the profile.")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-member`: no member has the id.")
            .ProducesProblemFor(StatusCodes.Status409Conflict, "`email-taken`: another member has the e-mail.");
        return app;
    }

    private static async Task<Results<Created<MemberResponse>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request, MemberRegistry registry, Passwords passwords, IGrainFactory grains)
    {
        var errors = new Dictionary<string, string[]>();
        var type = request.Type switch
        {
            "customer" => MemberType.Customer,
            "merchant" => MemberType.Merchant,
            _ => (MemberType?)null,
        };
        if (type is null)
        {
            errors["type"] = ["type must be \"customer\" or \"merchant\"."];
        }

        AddError(errors, "name", MemberRules.CheckName(request.Name));
        AddError(errors, "email", MemberRules.CheckEmail(request.Email));
        AddError(errors, "address", MemberRules.CheckAddress(request.Address));
        AddError(errors, "password", MemberRules.CheckPassword(request.Password));
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var result = await registry.RegisterAsync(type!.Value, request.Name!, request.Email!, request.Address ?? "", passwords.Hash(request.Password!));
        if (result.EmailTaken || result.Profile is not { } profile)
        {
            return EmailTaken();
        }

        return TypedResults.Created($"/v1/members/{profile.Id}", await MemberResponse.FromAsync(profile, grains));
    }

    private static async Task<Results<Ok<MemberResponse>, ProblemHttpResult>> GetAsync(string memberId, IGrainFactory grains) =>
        await grains.GetGrain<IMemberGrain>(memberId).GetProfile() is { } profile
            ? TypedResults.Ok(await MemberResponse.FromAsync(profile, grains))
            : NotFound(memberId);

    /// <summary>A member changes their name, email or address; an operator changes the status (suspends or reactivates).</summary>
    private static async Task<Results<Ok<MemberResponse>, ValidationProblem, ProblemHttpResult>> ChangeAsync(
        string memberId, ChangeRequest request, HttpContext http, MemberRegistry registry, IGrainFactory grains)
    {
        var isOperator = http.User.IsOperator();
        var changesProfile = request.Name is not null || request.Email is not null || request.Address is not null;
        if ((isOperator && changesProfile) || (!isOperator && request.Status is not null))
        {
            return Problems.Problem(
                StatusCodes.Status403Forbidden, "forbidden", "Not allowed to change these fields.",
                "A member changes name, email and address; an operator changes status.");
        }

        var errors = new Dictionary<string, string[]>();
        if (request.Name is not null)
        {
            AddError(errors, "name", MemberRules.CheckName(request.Name));
        }

        if (request.Email is not null)
        {
            AddError(errors, "email", MemberRules.CheckEmail(request.Email));
        }

        AddError(errors, "address", MemberRules.CheckAddress(request.Address));
        var status = request.Status switch
        {
            null => (MemberStatus?)null,
            "active" => MemberStatus.Active,
            "suspended" => MemberStatus.Suspended,
            _ => null,
        };
        if (request.Status is not null && status is null)
        {
            errors["status"] = ["status must be \"active\" or \"suspended\"."];
        }

        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        if (status is { } newStatus)
        {
            return await grains.GetGrain<IMemberGrain>(memberId).SetStatus(newStatus) is { } suspended
                ? TypedResults.Ok(await MemberResponse.FromAsync(suspended, grains))
                : NotFound(memberId);
        }

        var result = await registry.ChangeProfileAsync(memberId, new ProfileChange(request.Name, request.Email, request.Address));
        return result switch
        {
            { EmailTaken: true } => EmailTaken(),
            { Profile: { } profile } => TypedResults.Ok(await MemberResponse.FromAsync(profile, grains)),
            _ => NotFound(memberId),
        };
    }

    private static void AddError(Dictionary<string, string[]> errors, string field, string? error)
    {
        if (error is not null)
        {
            errors[field] = [error];
        }
    }

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The member data is not valid.", type: Problems.TypeBase + "invalid-member");

    private static ProblemHttpResult EmailTaken() => Problems.Problem(
        StatusCodes.Status409Conflict, "email-taken", "The email is already registered.", "Another member uses this email; sign in, or register with another email.");

    private static ProblemHttpResult NotFound(string memberId) => Problems.Problem(
        StatusCodes.Status404NotFound, "unknown-member", "No such member.", $"No member has id {memberId}.");

    public sealed record RegisterRequest(string? Type, string? Name, string? Email, string? Address, string? Password);

    public sealed record ChangeRequest(string? Name, string? Email, string? Address, string? Status);

    public sealed record MemberResponse(
        string Id, string Type, string Name, string Email, string Address, string Status, long? CommissionBps, DateTimeOffset RegisteredAt)
    {
        /// <summary>A merchant shows the rate in force: its own, or the default.</summary>
        public static async Task<MemberResponse> FromAsync(MemberProfile profile, IGrainFactory grains) =>
            From(profile, profile.Type == MemberType.Merchant && profile.CommissionBps is null
                ? await grains.GetGrain<ICommissionGrain>(ICommissionGrain.DefaultKey).GetDefaultBps()
                : 0);

        private static MemberResponse From(MemberProfile profile, long defaultCommissionBps) => new(
            profile.Id,
            profile.Type == MemberType.Merchant ? "merchant" : "customer",
            profile.Name,
            profile.Email,
            profile.Address,
            profile.Status == MemberStatus.Suspended ? "suspended" : "active",
            profile.Type == MemberType.Merchant ? profile.CommissionBps ?? defaultCommissionBps : null,
            profile.RegisteredAt);
    }
}
