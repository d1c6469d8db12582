namespace MyPay.Api.OpenApi;

/// <summary>
/// The API document at <c>/openapi/v1.json</c> and its UI at <c>/swagger</c>. What an operation alone knows (its name,
/// summary, tag, and the 4xx its handler returns) is declared where the endpoint is mapped; what many operations share
/// is declared here once, by a transformer per rule: the document's information and tags, the bearer scheme and which
/// operations need it, the <c>Idempotency-Key</c> header of money-moving operations, and the problems the pipeline
/// answers before or around a handler (an unreadable request, a body too large, the database unavailable).
/// </summary>
public static class OpenApiSetup
{
    public const string DocumentPath = "/openapi/v1.json";

    public const string UiPath = "/swagger";

    public static IServiceCollection AddMyPayOpenApi(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.AddDocumentTransformer<DocumentTransformer>();
        options.AddOperationTransformer<ProblemReasonsTransformer>();
        options.AddOperationTransformer<SecurityTransformer>();
        options.AddOperationTransformer<IdempotencyKeyTransformer>();
        options.AddOperationTransformer<PipelineProblemsTransformer>();
    });

    public static WebApplication MapMyPayOpenApi(this WebApplication app)
    {
        app.MapOpenApi();
        app.UseSwaggerUI(ui => ui.SwaggerEndpoint(DocumentPath, "MyPay v1"));
        return app;
    }
}
