-- Every firmbanking request, one row written with the firmbanking grain's first state write (Sent): for
-- whom it was made and when. Its progress lives in the grain; this table is the index for listing a
-- member's bank commands, so that a recharge does not also rewrite the member's own state.
CREATE TABLE IF NOT EXISTS firmbanking_request (
    request_id text        PRIMARY KEY,
    member_id  text        NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS firmbanking_request_by_member ON firmbanking_request (member_id, created_at DESC);
