namespace MyPay.Api.OpenApi;

/// <summary>
/// The document's tags, one per capability, in the order a client meets them. Endpoints name theirs with
/// <c>WithTags(ApiTags.X)</c>; <see cref="DocumentTransformer"/> lists them with these descriptions.
/// </summary>
public static class ApiTags
{
    public const string Members = "Members";
    public const string SignIn = "Sign-in";
    public const string BankAccounts = "Bank accounts";
    public const string Wallet = "Wallet";
    public const string Payments = "Payments";
    public const string Remittances = "Remittances";
    public const string Firmbanking = "Firmbanking";
    public const string Commission = "Commission";
    public const string Settlements = "Settlements";
    public const string Webhooks = "Webhooks";
    public const string Ledger = "Ledger";
    public const string Reports = "Reports";
    public const string Events = "Events";
    public const string Cluster = "Cluster";
    public const string Health = "Health";

    public static readonly IReadOnlyList<(string Name, string Description)> All =
    [
        (Members, "Customers and merchants: register (public), read, and change a profile (the member) or a status (operators)."),
        (SignIn, "A bearer token for an e-mail and password (a member) or the operator's username and password."),
        (BankAccounts, "The bank accounts a member links: the bank confirms each exists, is open and is held in the member's name."),
        (Wallet, "A member's \"my money\": the balance, its history, and recharges (충전) from a linked bank account."),
        (Payments, "Paying a merchant from the wallet, topped up from the bank when short; refunds by the merchant or operators."),
        (Remittances, "Sending money (송금) to another member, free, or to a bank account, for a fee."),
        (Firmbanking, "The commands MyPay sends to the bank (recharges, remittances, settlements) and their state."),
        (Commission, "The rates merchants are charged on payments, in basis points: a merchant's own or the default, with their history."),
        (Settlements, "Paying merchants (정산) the net of their payments and refunds, at each cut-off or on an operator's run."),
        (Webhooks, "Where a merchant's payment, refund and settlement events are POSTed, signed with its secret."),
        (Ledger, "The double-entry ledger's self-check and the reconciliation (대사) of MyPay's corporate account against the bank (operators)."),
        (Reports, "Views kept from events: money by region and the live counters (operators)."),
        (Events, "Delivery of domain events from the outbox to their consumers: lag, dead letters, rewinds (operators)."),
        (Cluster, "The Orleans cluster the nodes form: its silos, their status and activations (operators)."),
        (Health, "Probes: the node is live; the node is ready (its database reachable and migrated)."),
    ];
}
