"""The audit log, for admins."""
