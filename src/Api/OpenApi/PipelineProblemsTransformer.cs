using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using MyPay.Api.Hosting;

namespace MyPay.Api.OpenApi;

/// <summary>
/// The problems an operation can answer before or around its handler, decided by its shape rather than by its handler:
/// a body or a typed parameter that cannot be read (400), a body too large (413) or not JSON (415), and for the API's
/// operations the database or a node of the cluster being unavailable (503; <see cref="Problems"/>).
/// </summary>
internal sealed class PipelineProblemsTransformer : IOpenApiOperationTransformer
{
    public const string ApiPathPrefix = "v1/";

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var document = context.Document;
        if (operation.RequestBody is not null)
        {
            ProblemResponses.Add(operation, document, StatusCodes.Status400BadRequest, "The body is not JSON of the expected shape: malformed, a value of the wrong type, or a property given twice.");
            ProblemResponses.Add(operation, document, StatusCodes.Status413PayloadTooLarge, $"The body is over {Limits.RequestBodyBytesMax / 1024} KiB.");
            ProblemResponses.Add(operation, document, StatusCodes.Status415UnsupportedMediaType, "The body is not `application/json`.");
        }

        var typedParameters = context.Description.ParameterDescriptions
            .Where(parameter => (parameter.Source == BindingSource.Query || parameter.Source == BindingSource.Path) && parameter.Type != typeof(string))
            .Select(parameter => parameter.Name)
            .ToList();
        if (typedParameters.Count > 0)
        {
            ProblemResponses.Add(operation, document, StatusCodes.Status400BadRequest, $"A parameter is not of its type ({string.Join(", ", typedParameters)}).");
        }

        if (context.Description.RelativePath?.StartsWith(ApiPathPrefix, StringComparison.Ordinal) == true)
        {
            ProblemResponses.Add(operation, document, StatusCodes.Status503ServiceUnavailable, "The database or a node of the cluster is unavailable: retry after `Retry-After` seconds (a money-moving request with the same Idempotency-Key).");
        }

        return Task.CompletedTask;
    }
}
