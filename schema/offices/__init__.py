"""GraphQL types and queries for offices."""
