"""The pure core: records, validation, normalization, duplicate keys and merge rules. No I/O."""
