-- A posting is named by its entry and account: that pair becomes the primary key, in place of the unique
-- constraint that kept it before, and posting_id loses its own index. No query looks a posting up by posting_id
-- alone (history pages walk (account, posting_id) through ledger_posting_by_account), and the identity column
-- still numbers postings in the order they were written. Every posting inserted updated three indexes; now two.
ALTER TABLE ledger_posting DROP CONSTRAINT IF EXISTS ledger_posting_pkey;
ALTER TABLE ledger_posting DROP CONSTRAINT IF EXISTS ledger_posting_entry_id_account_key;
ALTER TABLE ledger_posting ADD CONSTRAINT ledger_posting_pkey PRIMARY KEY (entry_id, account);
