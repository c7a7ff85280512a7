"""Turning pydantic's validation errors into DomainErrors, all of them at once."""

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from models.errors import DomainError, InvalidInput, Required, TooLong, ValidationFailed

M = TypeVar("M", bound=BaseModel)

_CODES: dict[str, type[DomainError]] = {
    "missing": Required,
    "string_too_long": TooLong,
    "too_long": TooLong,
}


_MESSAGES = {
    "missing": "This field is required",
    "string_pattern_mismatch": "Use lowercase Latin letters, digits and single hyphens",
}


def _kind(error: Any) -> type[DomainError]:
    if error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
        return Required
    return _CODES.get(error["type"], InvalidInput)


def _message(error: Any) -> str:
    if _kind(error) is Required:
        return _MESSAGES["missing"]
    message = _MESSAGES.get(error["type"], str(error["msg"]))
    return message.removeprefix("Value error, ")


def check(model: type[M], data: dict[str, Any]) -> tuple[M | None, list[DomainError]]:
    """``model.model_validate(data)``, or ``None`` and one DomainError per bad field."""
    try:
        return model.model_validate(data), []
    except ValidationError as failure:
        errors: list[DomainError] = []
        for error in failure.errors():
            field = ".".join(str(part) for part in error["loc"]) or None
            errors.append(_kind(error)(_message(error), field=field))
        return None, errors


def validate(model: type[M], data: dict[str, Any]) -> M:
    """``model.model_validate(data)``, raising ``ValidationFailed`` with one error per field."""
    valid, errors = check(model, data)
    raise_all(errors)
    assert valid is not None
    return valid


def raise_all(errors: list[DomainError]) -> None:
    """Raise the collected errors together, if there are any."""
    if errors:
        raise ValidationFailed(errors)
