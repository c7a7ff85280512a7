"""GraphQL types and queries for authors."""
