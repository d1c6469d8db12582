using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace MyPay.Api.OpenApi;

/// <summary>
/// Which operations need the bearer token, read from what the endpoint requires (<c>RequireAuthorization</c>,
/// <c>AllowAnonymous</c>), so the document cannot drift from what the node enforces. A protected operation may answer
/// 401; one restricted to a role (the operator's) may answer 403 too. A public operation says so with an empty requirement.
/// </summary>
internal sealed class SecurityTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var requirements = metadata.OfType<IAuthorizeData>().ToList();
        if (requirements.Count == 0 || metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security = [new OpenApiSecurityRequirement()];
            return Task.CompletedTask;
        }

        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(DocumentTransformer.BearerSchemeName, context.Document)] = [] }];
        ProblemResponses.Add(operation, context.Document, StatusCodes.Status401Unauthorized, "No bearer token, or one that is malformed, expired or not MyPay's.");
        var roles = requirements
            .SelectMany(requirement => new[] { requirement.Policy }.Concat(requirement.Roles?.Split(',') ?? []))
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (roles.Count > 0)
        {
            var who = string.Join(" or ", roles.Select(role => $"the {role}"));
            ProblemResponses.Add(operation, context.Document, StatusCodes.Status403Forbidden, $"The token is not {who}'s.");
            operation.Description = string.IsNullOrEmpty(operation.Description)
                ? $"For {who} only."
                : $"{operation.Description}\n\nFor {who} only.";
        }

        return Task.CompletedTask;
    }
}
