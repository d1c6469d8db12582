-- A posting's entry must exist. The foreign key checked that row by row: one look-up and one row lock
-- (written to the entry's tuple, hence WAL) per posting. The statement trigger that already checks each
-- entry sums to zero now checks the entries exist too, with one query per statement.
ALTER TABLE ledger_posting DROP CONSTRAINT IF EXISTS ledger_posting_entry_id_fkey;

CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced text;
    orphan text;
BEGIN
    SELECT entry_id INTO unbalanced
    FROM new_postings
    GROUP BY entry_id
    HAVING sum(amount) <> 0
    LIMIT 1;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not sum to zero', unbalanced USING ERRCODE = 'check_violation';
    END IF;

    SELECT p.entry_id INTO orphan
    FROM new_postings p
    WHERE NOT EXISTS (SELECT 1 FROM ledger_entry e WHERE e.entry_id = p.entry_id)
    LIMIT 1;
    IF orphan IS NOT NULL THEN
        RAISE EXCEPTION 'posting to journal entry %, which does not exist', orphan USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
