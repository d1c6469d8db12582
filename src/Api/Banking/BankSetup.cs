using Microsoft.Extensions.Options;
using MyPay.Grains.Banking;

namespace MyPay.Api.Banking;

public static class BankSetup
{
    /// <summary>The banks as grains reach them: one HTTP client and one resilience pipeline for the process.</summary>
    public static IServiceCollection AddMyPayBank(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BankOptions>()
            .BindConfiguration(BankOptions.SectionName)
            .Configure(options =>
            {
                if (configuration[BankOptions.UrlVariable] is { Length: > 0 } url)
                {
                    options.BaseUrl = new Uri(url);
                }
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<BankPipeline>();

        // HttpClient's own loggers write a line per request and attempt at Information (filtered out by default) but open a
        // log scope for every call whatever the level: a few percent of the node under recharge. The gateway logs what an
        // operator needs, a call the bank did not answer, itself.
        services.AddHttpClient<IBankGateway, HttpBankGateway>((provider, http) =>
        {
            http.BaseAddress = provider.GetRequiredService<IOptions<BankOptions>>().Value.BaseUrl;

            // The pipeline times each attempt; this only guards against a pipeline that never ends.
            http.Timeout = TimeSpan.FromMinutes(2);
        }).RemoveAllLoggers();
        return services;
    }
}
