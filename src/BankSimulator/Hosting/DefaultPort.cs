namespace MyPay.BankSimulator.Hosting;

public static class DefaultPort
{
    /// <summary>Where the bank listens unless told otherwise: MyPay's default bank address is http://localhost:5090.</summary>
    public const string DefaultUrl = "http://localhost:5090";

    /// <summary>
    /// Listens on 5090 unless <c>--urls</c>, <c>ASPNETCORE_URLS</c> or <c>ASPNETCORE_HTTP_PORTS</c> says
    /// otherwise. Set in code, not in appsettings.json, because appsettings would outrank the
    /// ASPNETCORE_ environment variables a container sets.
    /// </summary>
    public static WebApplicationBuilder UseDefaultBankPort(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        if (string.IsNullOrEmpty(configuration["urls"]) && string.IsNullOrEmpty(configuration["http_ports"]) && string.IsNullOrEmpty(configuration["https_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        return builder;
    }
}
