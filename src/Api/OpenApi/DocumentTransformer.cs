using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace MyPay.Api.OpenApi;

/// <summary>
/// What the document says once: what MyPay is, where it is served, the bearer scheme its operations refer to, the
/// ProblemDetails schema of every error, and the tags with their descriptions.
/// </summary>
internal sealed class DocumentTransformer : IOpenApiDocumentTransformer
{
    public const string BearerSchemeName = "bearer";

    public async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "MyPay",
            Version = "v1",
            Description =
                "A prepaid wallet and simple-payment service: members top up \"my money\" from their bank account, send it to "
                + "other members or bank accounts, and pay merchants, who are settled periodically.\n\n"
                + "JSON in and out; money is whole won (JSON integers). Every error is `application/problem+json` with a stable "
                + "`type` (`https://mypay.example/problems/...`). Sign in with `POST /v1/auth/token` and send the token as "
                + "`Authorization: Bearer <token>`; members act on their own resources, the operator on everyone's. Every "
                + "money-moving request carries an `Idempotency-Key` header.",
        };

        // Relative: the node that serves the document, whatever address (or proxy) it was reached at. The generator would
        // name the address of the request, which behind a proxy or in a test host is not the one clients use.
        document.Servers = [new OpenApiServer { Url = "/", Description = "The node serving this document." }];

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerSchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "JWT",
            Description = "The `accessToken` of `POST /v1/auth/token`: a member signs in with their e-mail, the operator with the operator username.",
        };

        // Operations refer to it for the problems the transformers add; an operation declaring one itself registers it too.
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        if (!document.Components.Schemas.ContainsKey(ProblemResponses.SchemaName))
        {
            document.AddComponent<IOpenApiSchema>(ProblemResponses.SchemaName, await context.GetOrCreateSchemaAsync(typeof(ProblemDetails), cancellationToken: cancellationToken));
        }

        // Responses in the order of their status codes, however the rules that added them were ordered.
        foreach (var operation in (document.Paths ?? []).SelectMany(path => path.Value.Operations ?? []).Select(operation => operation.Value))
        {
            if (operation.Responses is { } responses)
            {
                var sorted = responses.OrderBy(response => response.Key, StringComparer.Ordinal).ToList();
                responses.Clear();
                foreach (var (status, response) in sorted)
                {
                    responses.Add(status, response);
                }
            }
        }

        var used = (document.Paths ?? [])
            .SelectMany(path => path.Value.Operations ?? [])
            .SelectMany(operation => operation.Value.Tags ?? new HashSet<OpenApiTagReference>())
            .Select(tag => tag.Name)
            .ToHashSet(StringComparer.Ordinal);
        var undescribed = used.Except(ApiTags.All.Select(tag => tag.Name), StringComparer.Ordinal).ToList();
        if (undescribed.Count > 0)
        {
            throw new InvalidOperationException($"Tags without a description in ApiTags: {string.Join(", ", undescribed)}. Tag each endpoint with WithTags(ApiTags.X).");
        }

        document.Tags = new HashSet<OpenApiTag>(
            ApiTags.All.Where(tag => used.Contains(tag.Name)).Select(tag => new OpenApiTag { Name = tag.Name, Description = tag.Description }));
    }
}
