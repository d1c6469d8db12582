SELECT version, payload
FROM silo_grain_state
WHERE grain_type = @grain_type AND grain_key = @grain_key
