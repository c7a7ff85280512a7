"""GraphQL types and queries for tags."""
