"""GraphQL types and queries for articles."""
