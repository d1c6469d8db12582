using MyPay.Api.Auth;
using MyPay.Api.Hosting;
using MyPay.Api.OpenApi;
using MyPay.Grains.Members;
using MyPay.Grains.Webhooks;
using Orleans;

namespace MyPay.Api.Webhooks;

public static class WebhookEndpoints
{
    public static IServiceCollection AddMyPayWebhooks(this IServiceCollection services)
    {
        services.AddHttpClient<IWebhookSender, HttpWebhookSender>(http => http.Timeout = HttpWebhookSender.Timeout);
        return services;
    }

    public static WebApplication MapWebhooks(this WebApplication app)
    {
        app.MapPut("/v1/merchants/{merchantId}/webhook", SetAsync).RequireSelfOrOperator("merchantId")
            .WithName("SetWebhook").WithTags(ApiTags.Webhooks).WithSummary("Register or replace a merchant's webhook")
            .WithDescription("`url` (http or https) and `secret`, which signs each delivery in the `MyPay-Signature` header and is never shown again.")
            .ProducesProblemFor(StatusCodes.Status400BadRequest, "`invalid-webhook`: `url` or `secret` is missing or malformed.")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`unknown-merchant`: no merchant has the id.");
        app.MapGet("/v1/merchants/{merchantId}/webhook", GetAsync).RequireSelfOrOperator("merchantId")
            .WithName("GetWebhook").WithTags(ApiTags.Webhooks).WithSummary("Read a merchant's webhook, without its secret")
            .ProducesProblemFor(StatusCodes.Status404NotFound, "`no-webhook`: the merchant has registered none.");
        return app;
    }

    /// <summary>
    /// Registers (or replaces) where the merchant's payment, refund and settlement events are POSTed, signed with the
    /// secret (the merchant or an operator). Events from then on are delivered, in order, retried while the receiver fails.
    /// </summary>
    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> SetAsync(
        string merchantId, WebhookRequest request, IGrainFactory grains, TimeProvider time)
    {
        if (WebhookEndpoint.Check(request.Url, request.Secret) is { } invalid)
        {
            return Problems.Problem(StatusCodes.Status400BadRequest, "invalid-webhook", "The webhook is not valid.", invalid);
        }

        if (await grains.GetGrain<IMemberGrain>(merchantId).GetProfile() is not { Type: MemberType.Merchant })
        {
            return UnknownMerchant(merchantId);
        }

        var endpoint = await grains.GetGrain<IWebhookGrain>(merchantId).Register(new Uri(request.Url!), request.Secret!, time.GetUtcNow());
        return TypedResults.Ok(WebhookResponse.From(merchantId, endpoint));
    }

    /// <summary>The merchant's webhook, without its secret (the merchant or an operator); 404 when none is registered.</summary>
    private static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> GetAsync(string merchantId, IGrainFactory grains) =>
        await grains.GetGrain<IWebhookGrain>(merchantId).GetEndpoint() is { } endpoint
            ? TypedResults.Ok(WebhookResponse.From(merchantId, endpoint))
            : Problems.Problem(StatusCodes.Status404NotFound, "no-webhook", "No webhook is registered.", $"Merchant {merchantId} has registered no webhook.");

    private static ProblemHttpResult UnknownMerchant(string merchantId) =>
        Problems.Problem(StatusCodes.Status404NotFound, "unknown-merchant", "No such merchant.", $"No merchant has id {merchantId}.");
}

public sealed record WebhookRequest(string? Url, string? Secret);

public sealed record WebhookResponse(string MerchantId, Uri Url, DateTimeOffset UpdatedAt)
{
    public static WebhookResponse From(string merchantId, WebhookEndpoint endpoint) => new(merchantId, endpoint.Url, endpoint.UpdatedAt);
}

/// <summary>POSTs a webhook's JSON body with its signature header; a receiver gets <see cref="Timeout"/> to answer.</summary>
public sealed class HttpWebhookSender(HttpClient http) : IWebhookSender
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public async Task<bool> SendAsync(Uri url, string body, string signature, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation(WebhookSignature.HeaderName, signature);
        using var response = await http.SendAsync(request, cancellationToken);
        return response.IsSuccessStatusCode;
    }
}
