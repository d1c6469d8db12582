-- A test component's second migration: it fails unless 0001 ran before it.
ALTER TABLE test_note ADD COLUMN IF NOT EXISTS body text NOT NULL DEFAULT '';
