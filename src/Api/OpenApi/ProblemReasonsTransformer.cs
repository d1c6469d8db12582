using System.Globalization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace MyPay.Api.OpenApi;

/// <summary>
/// Describes each problem status by every reason declared for it (<see cref="ProblemDocumentation.ProducesProblemFor"/>),
/// since the generator keeps one declaration per status.
/// </summary>
internal sealed class ProblemReasonsTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var reasons = context.Description.ActionDescriptor.EndpointMetadata
            .OfType<IProducesResponseTypeMetadata>()
            .Where(declared => declared.Description is not null && declared.ContentTypes.Contains(ProblemResponses.ContentType))
            .GroupBy(declared => declared.StatusCode);
        foreach (var status in reasons)
        {
            var why = string.Join(" ", status.Select(declared => declared.Description).Distinct(StringComparer.Ordinal));
            if (operation.Responses?.GetValueOrDefault(status.Key.ToString(CultureInfo.InvariantCulture)) is OpenApiResponse response)
            {
                response.Description = why;
            }
            else
            {
                ProblemResponses.Add(operation, context.Document, status.Key, why);
            }
        }

        return Task.CompletedTask;
    }
}
