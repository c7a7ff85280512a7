"""API tokens, managed by admins."""
