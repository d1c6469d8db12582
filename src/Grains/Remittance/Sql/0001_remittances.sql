-- Every remittance, one row written with the remittance grain's first state write: who sent what to
-- whom. Its progress lives in the grain; this table is the index for listing a member's remittances,
-- sent or received.
CREATE TABLE IF NOT EXISTS remittance (
    remittance_id       text        PRIMARY KEY,
    sender_id           text        NOT NULL,
    recipient_member_id text,
    recipient_bank_code text,
    recipient_account   text,
    amount              bigint      NOT NULL CHECK (amount > 0),
    created_at          timestamptz NOT NULL,
    CHECK ((recipient_member_id IS NULL) <> (recipient_account IS NULL))
);

CREATE INDEX IF NOT EXISTS remittance_by_sender ON remittance (sender_id, created_at DESC);
CREATE INDEX IF NOT EXISTS remittance_by_recipient ON remittance (recipient_member_id, created_at DESC) WHERE recipient_member_id IS NOT NULL;
