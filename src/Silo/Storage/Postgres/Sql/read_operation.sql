SELECT request_hash, result
FROM silo_grain_operation
WHERE grain_type = @grain_type AND grain_key = @grain_key AND operation_id = @operation_id
