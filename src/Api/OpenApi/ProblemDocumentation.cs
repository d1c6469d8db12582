using Microsoft.AspNetCore.Mvc;

namespace MyPay.Api.OpenApi;

/// <summary>
/// Declares a problem an endpoint's handler (or filter) can answer, with why, where the endpoint is mapped. Several
/// reasons may share a status; <see cref="ProblemReasonsTransformer"/> lists them all in the document.
/// </summary>
public static class ProblemDocumentation
{
    /// <summary>The endpoint may answer <paramref name="status"/> as problem+json; <paramref name="reason"/> names its <c>type</c> and says when.</summary>
    public static TBuilder ProducesProblemFor<TBuilder>(this TBuilder builder, int status, string reason)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(ProblemDetails), [ProblemResponses.ContentType]) { Description = reason });

    /// <summary>
    /// The endpoint may answer 400 with a validation problem, whose <c>errors</c> name each field that is wrong. Declare
    /// it after any other 400 of the endpoint (the generator keeps the schema of the last), as a filter's comes first.
    /// </summary>
    public static TBuilder ProducesValidationProblemFor<TBuilder>(this TBuilder builder, string reason)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(HttpValidationProblemDetails), [ProblemResponses.ContentType]) { Description = reason });
}
