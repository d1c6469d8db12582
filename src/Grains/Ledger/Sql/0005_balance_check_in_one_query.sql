-- The statement trigger's checks in one query over the transition table: each entry summed once, then counted,
-- and probed in the entry index (a scalar subquery: one probe per entry under any plan, as in 0003). The three
-- queries before read the postings three times and cost three executor start-ups on every statement that posts.
CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    unbalanced text;
    entry_count bigint;
    found_entries bigint;
BEGIN
    WITH entry AS (
        SELECT entry_id, sum(amount) AS total
        FROM new_postings
        GROUP BY entry_id
    )
    SELECT min(entry_id) FILTER (WHERE total <> 0),
           count(*),
           count(*) FILTER (WHERE (SELECT true FROM ledger_entry l WHERE l.entry_id = entry.entry_id))
    INTO unbalanced, entry_count, found_entries
    FROM entry;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'journal entry % does not sum to zero', unbalanced USING ERRCODE = 'check_violation';
    END IF;

    IF found_entries <> entry_count THEN
        RAISE EXCEPTION 'postings to journal entries that do not exist (% of % found)', found_entries, entry_count
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
