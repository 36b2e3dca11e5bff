"""Reports: plain data objects built from the database, and writers that turn them into bytes."""
