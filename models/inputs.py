"""Rules every editor's input model shares: trimmed text that both databases can
store, web URLs that fit their column, slugs, and "sent as null" checks."""

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import pydantic
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, HttpUrl
from pydantic_core import PydanticCustomError

from models.columns import is_storable
from models.errors import DomainError, Required

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_URL_LENGTH = 2000


def _fits_column(value: Any) -> Any:
    # Checked on the raw text and again after normalising (an IDN host grows as punycode):
    # pydantic's own URL limit is 2083, longer than the column.
    if len(str(value)) > MAX_URL_LENGTH:
        raise PydanticCustomError(
            "string_too_long",
            "This URL may have at most {max_length} characters",
            {"max_length": MAX_URL_LENGTH},
        )
    return value


WebUrl = Annotated[HttpUrl, BeforeValidator(_fits_column), AfterValidator(_fits_column)]


class EditorInput(BaseModel):
    """Base of every editor's input: trimmed, no unknown fields, storable text."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    # Fields an update may clear by sending null; the others need a value when sent.
    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @pydantic.field_validator("*")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the database.
        if isinstance(value, str) and not is_storable(value):
            raise ValueError("This text contains characters that cannot be stored")
        return value

    @classmethod
    def nulled_required(cls, data: Mapping[str, Any]) -> list[DomainError]:
        """REQUIRED for each field sent as null that may not be cleared, in field order.

        Read from the raw input, so it is reported even when other fields are malformed.
        """
        return [
            Required("This field is required", field=name)
            for name in cls.model_fields
            if name in data and data[name] is None and name not in cls.NULLABLE
        ]
