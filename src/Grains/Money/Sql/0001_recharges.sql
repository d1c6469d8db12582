-- Every recharge, one row written by the member's wallet grain: inserted as pending with the write that
-- reserves the amount (with the reminder that resumes it), and finished with the write that credits the
-- wallet or releases the reservation (with the reminder's clearing). The wallet is its only writer, so
-- the row changes in the wallet's order, and it is what GET /v1/recharges/{id} and a resumed recharge read.
CREATE TABLE IF NOT EXISTS recharge (
    recharge_id            text        PRIMARY KEY,
    member_id              text        NOT NULL,
    amount                 bigint      NOT NULL CHECK (amount > 0),
    from_bank_code         text        NOT NULL,
    from_account_number    text        NOT NULL,
    idempotency_key        text        NOT NULL,
    firmbanking_request_id text        NOT NULL,
    status                 text        NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    balance_after          bigint      CHECK (balance_after >= 0),
    failure_reason         text,
    requested_at           timestamptz NOT NULL,
    completed_at           timestamptz
);
