using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;

namespace MyPay.Api.OpenApi;

/// <summary>Adds a problem response (<c>application/problem+json</c>, the ProblemDetails schema) to an operation, for the transformers.</summary>
internal static class ProblemResponses
{
    public const string ContentType = "application/problem+json";

    /// <summary>The components name of <see cref="ProblemDetails"/>, as the generator names the schema of a type.</summary>
    public const string SchemaName = nameof(ProblemDetails);

    /// <summary>
    /// Declares that the operation may answer <paramref name="status"/> for the reason <paramref name="why"/> (a sentence).
    /// A status the operation declares already keeps its schema (a validation problem's is richer) and gains the reason.
    /// </summary>
    public static void Add(OpenApiOperation operation, OpenApiDocument? document, int status, string why)
    {
        operation.Responses ??= [];
        var key = status.ToString(CultureInfo.InvariantCulture);
        if (operation.Responses.TryGetValue(key, out var declared) && declared is OpenApiResponse response)
        {
            // The generator describes a declared status by its reason phrase alone ("Not Found"); a reason says more.
            var description = response.Description;
            response.Description = string.IsNullOrEmpty(description) || description == ReasonPhrases.GetReasonPhrase(status) ? why
                : description.Contains(why, StringComparison.Ordinal) ? description
                : $"{description} {why}";
            response.Content ??= new Dictionary<string, OpenApiMediaType>();
            response.Content.TryAdd(ContentType, Problem(document));
            return;
        }

        operation.Responses[key] = new OpenApiResponse
        {
            Description = why,
            Content = new Dictionary<string, OpenApiMediaType> { [ContentType] = Problem(document) },
        };
    }

    private static OpenApiMediaType Problem(OpenApiDocument? document) => new() { Schema = new OpenApiSchemaReference(SchemaName, document) };
}
