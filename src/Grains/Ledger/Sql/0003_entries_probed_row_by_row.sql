-- The entries-exist check probes the entry index once per entry whatever the statistics say. With
-- `entry_id = ANY (entries)`, the plan PL/pgSQL caches for the trigger's session is generic: made while
-- ledger_entry was young and small, it read the whole table on every statement until the next ANALYZE.
-- A scalar subquery is evaluated row by row, one index probe each, under any plan.
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

    SELECT array_agg(DISTINCT entry_id) INTO entries FROM new_postings;
    SELECT count(*) INTO found_entries
    FROM unnest(entries) AS e(entry_id)
    WHERE (SELECT true FROM ledger_entry l WHERE l.entry_id = e.entry_id);
    IF found_entries <> coalesce(cardinality(entries), 0) THEN
        RAISE EXCEPTION 'postings to journal entries that do not exist (% of % found)', found_entries, cardinality(entries)
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
