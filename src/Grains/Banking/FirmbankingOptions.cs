using System.ComponentModel.DataAnnotations;

namespace MyPay.Grains.Banking;

/// <summary>How MyPay drives bank commands. Bound from the <c>Firmbanking</c> configuration section.</summary>
public sealed class FirmbankingOptions
{
    public const string SectionName = "Firmbanking";

    /// <summary>
    /// Rounds of "send, then ask for the status if no answer came" before a request is left Unknown for
    /// later resolution. Default 4. Every round uses the same request id, so the bank applies it at most once.
    /// </summary>
    [Range(1, 20)]
    public int RoundsMax { get; set; } = 4;

    /// <summary>The bank of MyPay's corporate account, where recharges land and remittances and settlements leave from. Default 088.</summary>
    [Required]
    [RegularExpression("^[0-9]{3}$")]
    public string CorporateBankCode { get; set; } = "088";

    /// <summary>MyPay's corporate account number. Default 100-000-000001, the bank simulator's default.</summary>
    [Required]
    public string CorporateAccountNumber { get; set; } = "100-000-000001";

    public BankAccountNumber CorporateAccount => new(CorporateBankCode, CorporateAccountNumber);
}
