-- The money-by-region report's projection: per member, the address and wallet balance the member's events last
-- told (member.registered/changed on member:{id}, every wallet event's balanceAfterWon on wallet:{id}), with the
-- sequence of the last event applied from each stream. An event applies only past that sequence, in the statement
-- that records it, so a redelivered or late event changes nothing.
CREATE TABLE IF NOT EXISTS member_region (
    member_id       text   PRIMARY KEY,
    address         text,
    balance         bigint NOT NULL DEFAULT 0,
    member_sequence bigint NOT NULL DEFAULT 0,
    wallet_sequence bigint NOT NULL DEFAULT 0
);
