using System.Net.Http.Headers;
using System.Text.Json;

namespace MyPay.LoadTest.Client;

/// <summary>The bank simulator, for opening each customer's bank account before it is linked.</summary>
public sealed class BankClient(HttpSender sender, Uri bankUrl)
{
    /// <summary>Opens an account: 201, or 409 <c>account-exists</c> when an earlier attempt already opened it.</summary>
    public Task<Reply> OpenAccountAsync(OpenAccountRequest request, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(request, LoadTestJson.Default.OpenAccountRequest);
        return sender.SendAsync(
            () =>
            {
                var message = new HttpRequestMessage(HttpMethod.Post, new Uri(bankUrl, "accounts")) { Content = new ByteArrayContent(bytes) };
                message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                return message;
            },
            cancellationToken);
    }
}
