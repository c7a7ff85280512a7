"""Article mutation inputs. Every field is optional here: the domain decides what is
required, so a missing title comes back as a ``UserError`` next to the field."""

from typing import Any

import strawberry

from models.errors import DomainError
from schema.enums import Language
from schema.inputs import provided
from schema.node import pks_of


@strawberry.input
class CreateArticleInput:
    title: str | None = strawberry.UNSET
    slug: str | None = strawberry.field(
        default=strawberry.UNSET, description="Generated from the title when omitted."
    )
    lead: str | None = strawberry.UNSET
    body: str | None = strawberry.field(default=strawberry.UNSET, description="Markdown.")
    language: Language | None = strawberry.UNSET
    source_name: str | None = strawberry.UNSET
    source_url: str | None = strawberry.UNSET
    author_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="The byline, in order."
    )
    tag_ids: list[strawberry.ID] | None = strawberry.UNSET
    translation_of: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="An article this one translates."
    )

    def to_data(self) -> tuple[dict[str, Any], list[DomainError]]:
        """The domain's input, and the IDs that could not be decoded."""
        errors: list[DomainError] = []
        data = provided(
            title=self.title,
            slug=self.slug,
            lead=self.lead,
            body=self.body,
            language=self.language,
            source_name=self.source_name,
            source_url=self.source_url,
        )
        if self.author_ids:
            data["author_ids"] = pks_of(self.author_ids, "Author", "author_ids", errors)
        if self.tag_ids:
            data["tag_ids"] = pks_of(self.tag_ids, "Tag", "tag_ids", errors)
        if self.translation_of is not None and self.translation_of is not strawberry.UNSET:
            for original in pks_of([self.translation_of], "Article", "translation_of", errors):
                data["translation_of"] = original
        return {name: value for name, value in data.items() if value is not None}, errors


@strawberry.input(description="Only the fields given change; null clears sourceName/sourceUrl.")
class UpdateArticleInput:
    title: str | None = strawberry.UNSET
    slug: str | None = strawberry.UNSET
    lead: str | None = strawberry.UNSET
    body: str | None = strawberry.UNSET
    language: Language | None = strawberry.UNSET
    source_name: str | None = strawberry.UNSET
    source_url: str | None = strawberry.UNSET
    author_ids: list[strawberry.ID] | None = strawberry.UNSET
    tag_ids: list[strawberry.ID] | None = strawberry.UNSET

    def to_data(self) -> tuple[dict[str, Any], list[DomainError]]:
        """The domain's input, and the IDs that could not be decoded."""
        errors: list[DomainError] = []
        data = provided(
            title=self.title,
            slug=self.slug,
            lead=self.lead,
            body=self.body,
            language=self.language,
            source_name=self.source_name,
            source_url=self.source_url,
        )
        if self.author_ids is not strawberry.UNSET:
            data["author_ids"] = pks_of(self.author_ids or [], "Author", "author_ids", errors)
        if self.tag_ids is not strawberry.UNSET:
            data["tag_ids"] = pks_of(self.tag_ids or [], "Tag", "tag_ids", errors)
        return data, errors
