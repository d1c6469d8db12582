-- The silo's own reminder poller is gone: grains use Orleans reminders (orleans_reminder, in ReminderTable/Sql), armed
-- before the step each guards. A pending recharge is still found by its row (recharge.status); a refund or remittance
-- an old node left unfinished has no reminder on Orleans and is finished when its request is repeated with the same
-- key, so upgrade a node with none in flight (the ledger check counts them).
DROP TABLE IF EXISTS silo_reminder;
