-- A posting's entry must exist. The foreign key checked that row by row: one look-up and one row lock
-- (written to the entry's tuple, hence WAL) per posting. The statement trigger that already checks each
-- entry sums to zero now checks the entries exist too, with one index probe per entry and no lock.
ALTER TABLE ledger_posting DROP CONSTRAINT IF EXISTS ledger_posting_entry_id_fkey;

CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced text;
    entries text[];
    found_entries bigint;
BEGIN
    SELECT entry_id INTO unbalanced
    FROM new_postings
    GROUP BY entry_id
    HAVING sum(amount) <> 0
    LIMIT 1;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not sum to zero', unbalanced USING ERRCODE = 'check_violation';
    END IF;

    -- The statement's entries as an array, then one index probe each (= ANY): a join with the transition
    -- table, which has no statistics, was planned as a hash over the whole ledger_entry table.
    SELECT array_agg(DISTINCT entry_id) INTO entries FROM new_postings;
    SELECT count(*) INTO found_entries FROM ledger_entry WHERE entry_id = ANY (entries);
    IF found_entries <> coalesce(cardinality(entries), 0) THEN
        RAISE EXCEPTION 'postings to journal entries that do not exist (% of % found)', found_entries, cardinality(entries)
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
