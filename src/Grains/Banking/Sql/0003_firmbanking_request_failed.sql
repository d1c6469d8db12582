-- The operators' money view lists the bank commands that failed lately, newest first: the few failed rows by the
-- time they failed, so the listing never reads the succeeded ones.
CREATE INDEX IF NOT EXISTS firmbanking_request_failed ON firmbanking_request (completed_at DESC) WHERE status = 'failed';
