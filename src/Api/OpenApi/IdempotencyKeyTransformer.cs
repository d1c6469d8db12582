using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using MyPay.Api.Hosting;

namespace MyPay.Api.OpenApi;

/// <summary>
/// The <c>Idempotency-Key</c> header of money-moving operations, declared by <c>WithIdempotencyKey()</c> where the
/// endpoint is mapped: the header's rules (<see cref="Idempotency"/>) and the problems a key can cause, written once.
/// </summary>
public static class IdempotencyKeyDocumentation
{
    /// <summary>Declares that the operation reads the <c>Idempotency-Key</c> header, which its handler requires.</summary>
    public static RouteHandlerBuilder WithIdempotencyKey(this RouteHandlerBuilder builder) => builder.WithMetadata(IdempotencyKeyMetadata.Instance);

    internal sealed class IdempotencyKeyMetadata
    {
        public static readonly IdempotencyKeyMetadata Instance = new();
    }
}

internal sealed class IdempotencyKeyTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (!context.Description.ActionDescriptor.EndpointMetadata.OfType<IdempotencyKeyDocumentation.IdempotencyKeyMetadata>().Any())
        {
            return Task.CompletedTask;
        }

        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = Idempotency.HeaderName,
            In = ParameterLocation.Header,
            Required = true,
            Description =
                "Names this request: the same key with the same body returns the first response, without doing it again; "
                + "the same key with another body is refused (422). Use a new key for each new request, and the same one to retry.",
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                MinLength = 1,
                MaxLength = Idempotency.KeyLengthMax,
                Pattern = "^[!-~]+$",
            },
            Example = JsonValue.Create("8c1e0b2a-5d7f-4c1e-9a3b-2f6d4e8a1c90"),
        });
        var document = context.Document;
        ProblemResponses.Add(operation, document, StatusCodes.Status400BadRequest, $"`idempotency-key-required`: the {Idempotency.HeaderName} header is missing, or not 1 to {Idempotency.KeyLengthMax} visible ASCII characters.");
        ProblemResponses.Add(operation, document, StatusCodes.Status409Conflict, "`concurrent-update`: the resource was changed concurrently; retry with the same key.");
        ProblemResponses.Add(operation, document, StatusCodes.Status422UnprocessableEntity, "`idempotency-key-reused`: the key was used before with another body.");
        return Task.CompletedTask;
    }
}
