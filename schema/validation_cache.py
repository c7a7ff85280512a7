"""Validating a document once: a valid document stays valid for the life of the schema.

Strawberry's ``ValidationCache`` stores every outcome and overwrites errors other
extensions set before it (our limits refuse documents by setting them). This one runs only
when nothing refused the document, and keeps only successes: an invalid document is
validated afresh each time, so no error object is ever shared between two requests.
"""

from collections.abc import Iterator

from strawberry.extensions import ValidationCache

from schema.strawberry_internals import graphql_schema

# Distinct valid documents kept per process (a site's frontends send a few dozen).
MAX_DOCUMENTS = 1000


class ValidDocuments(ValidationCache):
    def __init__(self) -> None:
        super().__init__(maxsize=MAX_DOCUMENTS)

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.pre_execution_errors is None and execution.graphql_document is not None:
            errors = self.cached_validate_document(
                graphql_schema(execution.schema),
                execution.graphql_document,
                execution.validation_rules,
            )
            if not errors:
                execution.pre_execution_errors = []  # valid: Strawberry skips validation
        yield
