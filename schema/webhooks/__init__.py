"""Webhooks over GraphQL, for admins: registering receivers and reading their deliveries.

Layer: schema (imports models, models.services, schema; never server).
"""
