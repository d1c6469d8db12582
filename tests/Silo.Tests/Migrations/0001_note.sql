-- A test component's first migration: it needs the silo's table, so it fails unless the silo's migrations ran first.
CREATE TABLE IF NOT EXISTS test_note (
    grain_type text NOT NULL,
    grain_key  text NOT NULL,
    PRIMARY KEY (grain_type, grain_key),
    FOREIGN KEY (grain_type, grain_key) REFERENCES silo_grain_state (grain_type, grain_key)
);
