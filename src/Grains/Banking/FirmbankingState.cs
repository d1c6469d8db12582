namespace MyPay.Grains.Banking;

public sealed class FirmbankingState
{
    public FirmbankingRecord? Record { get; set; }
}
