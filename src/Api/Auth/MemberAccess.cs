using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;

namespace MyPay.Api.Auth;

/// <summary>
/// Who may touch a member's resources (routes with <c>{memberId}</c>): the member, and for reads the
/// operator. A valid member id is checked here too, so every such route rejects a malformed id alike.
/// </summary>
public static class MemberAccess
{
    /// <summary>The route parameter that holds the member's id, unless a route names it otherwise (<c>{merchantId}</c>).</summary>
    public const string MemberIdParameter = "memberId";

    /// <summary>Only the member themself (a wallet recharge, linking an account).</summary>
    public static RouteHandlerBuilder RequireSelf(this RouteHandlerBuilder builder) => builder.RequireAuthorization().AddEndpointFilter(new Filter(AllowOperator: false)).DocumentRefusals();

    /// <summary>The member, or an operator (reads). <paramref name="routeParameter"/> names the member's id in the route.</summary>
    public static RouteHandlerBuilder RequireSelfOrOperator(this RouteHandlerBuilder builder, string routeParameter = MemberIdParameter) =>
        builder.RequireAuthorization().AddEndpointFilter(new Filter(AllowOperator: true, routeParameter)).DocumentRefusals();

    public static RouteGroupBuilder RequireSelf(this RouteGroupBuilder group) => group.RequireAuthorization().AddEndpointFilter(new Filter(AllowOperator: false)).DocumentRefusals();

    /// <summary>What the filter refuses, for the API document.</summary>
    private static TBuilder DocumentRefusals<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder
        .ProducesProblemFor(StatusCodes.Status400BadRequest, $"`invalid-member-id`: the member id in the path is not 1 to {MemberIds.LengthMax} letters, digits, '-' or '_'.")
        .ProducesProblemFor(StatusCodes.Status403Forbidden, "`forbidden`: the resource is another member's.");

    public static ProblemHttpResult Forbidden(string memberId) => Problems.Problem(
        StatusCodes.Status403Forbidden, "forbidden", "This resource belongs to another member.", $"The token does not allow access to member {memberId}'s resources.");

    private sealed record Filter(bool AllowOperator, string RouteParameter = MemberIdParameter) : IEndpointFilter
    {
        public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        {
            var memberId = context.HttpContext.GetRouteValue(RouteParameter) as string ?? "";
            if (!MemberIds.IsValid(memberId))
            {
                return MemberIds.Invalid(memberId);
            }

            var user = context.HttpContext.User;
            var allowed = user.MemberId() == memberId || (AllowOperator && user.IsOperator());
            return allowed ? await next(context) : Forbidden(memberId);
        }
    }
}
