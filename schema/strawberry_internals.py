"""What Vestnik reads of Strawberry beyond its public API: here only, pinned by a test.

- ``graphql_schema``: graphql-core's schema, which Strawberry keeps as ``Schema._schema``
  (validation, limits and the compiled planner work on graphql-core's types).
- ``resolver_arguments``: a field's arguments as its resolver receives them (Python names,
  input objects built, defaults applied), through ``strawberry.types.arguments``'s
  ``convert_arguments``, as Strawberry's executor calls it. The compiled path converts a
  root field's arguments so, then hands them to the same function the resolver calls.
- ``MaskedErrors``: Strawberry's ``MaskErrors`` with a hook on each result's errors after
  masking (``after_masking``), in place of overriding its private ``_process_errors``,
  which it calls once per result (streamed parts too).

``tests/schema/test_strawberry_internals.py`` pins all three.
"""

from collections.abc import Mapping
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSchema
from strawberry.extensions import MaskErrors
from strawberry.types.arguments import convert_arguments


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    return schema._schema


def resolver_arguments(
    schema: strawberry.Schema, type_name: str, field_name: str, given: Mapping[str, Any]
) -> dict[str, Any]:
    """``given`` (graphql-core's coerced argument values, by GraphQL name) as the resolver of
    ``type_name.field_name`` receives them, by Python name."""
    field = schema.get_field_for_type(field_name, type_name)
    if field is None:
        raise KeyError(f"{type_name}.{field_name}")
    return convert_arguments(
        dict(given),
        field.arguments,
        scalar_registry=schema.schema_converter.scalar_registry,
        config=schema.config,
    )


class MaskedErrors(MaskErrors):
    """``MaskErrors``, then ``after_masking`` on the errors of each result it masked."""

    def after_masking(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return errors

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return self.after_masking(super()._process_errors(errors))
