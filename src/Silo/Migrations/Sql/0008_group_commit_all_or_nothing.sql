-- A group commit whose records travel with its states in one round trip (the states' statement, every write's
-- records, COMMIT) is sent before the store has seen which writes the statement wrote: it asks for all or nothing.
-- This check fails the statement, and so its transaction, when any write of the batch was not written (stale or
-- repeated); the store then sends the batch the careful way, the records only of the writes that were.
CREATE OR REPLACE FUNCTION silo_all_written(required boolean, written bigint, writes integer) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF required AND written <> writes THEN
        RAISE EXCEPTION '% of % writes of a group commit would be written', written, writes USING ERRCODE = 'MPW01';
    END IF;
    RETURN true;
END
$$;
