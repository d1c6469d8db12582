using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MyPay.Testing;

/// <summary>
/// A merchant's webhook receiver on a real port of this machine: records each request's raw body and signature header
/// in arrival order, and answers 503 while <see cref="Down"/>.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<(string Body, string? Signature)> received = new();
    private int refused;

    private WebhookReceiver(WebApplication app) => this.app = app;

    /// <summary>Whether the receiver refuses every request (503), as a receiver that is down would fail.</summary>
    public bool Down { get; set; }

    public Uri Url { get; private set; } = null!;

    /// <summary>Requests answered 200, in arrival order.</summary>
    public IReadOnlyList<(string Body, string? Signature)> Received => [.. received];

    /// <summary>Requests refused while down.</summary>
    public int Refused => Volatile.Read(ref refused);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpContext http) =>
        {
            if (receiver.Down)
            {
                Interlocked.Increment(ref receiver.refused);
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }

            using var reader = new StreamReader(http.Request.Body);
            receiver.received.Enqueue((await reader.ReadToEndAsync(), http.Request.Headers["MyPay-Signature"].FirstOrDefault()));
            return Results.Ok();
        });
        await app.StartAsync();
        receiver.Url = new Uri(new Uri(app.Urls.First()), "/hook");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
