"""Article mutations: each returns ``{ article, errors }``; editors only."""

from datetime import datetime

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from models.article import Article
from models.revision import ArticleCorrection
from models.services import article_edits
from schema.articles.inputs import CreateArticleInput, UpdateArticleInput
from schema.articles.types import ArticleType, Correction
from schema.context import Info
from schema.errors import UserError, UserErrorCode
from schema.node import from_global_id
from schema.payloads import DeletePayload, perform
from schema.permissions import IsEditor


@strawberry.type
class ArticlePayload:
    article: ArticleType | None = strawberry.field(
        description="The article after the change; on CONFLICT, its current state."
    )
    errors: list[UserError]


@strawberry.type
class CorrectionPayload:
    correction: Correction | None
    article: ArticleType | None
    errors: list[UserError]


def _pk(id: strawberry.ID, field: str = "id") -> int:
    return from_global_id(id, "Article", field=field)[1]


async def _payload(
    info: Info, pk: int | None, result: object, errors: list[UserError]
) -> ArticlePayload:
    """Wrap a use case's outcome; a conflict also shows the article as it now is."""
    if isinstance(result, Article):
        return ArticlePayload(article=ArticleType.from_model(result), errors=errors)
    current = None
    if pk is not None and any(e.code is UserErrorCode.CONFLICT for e in errors):
        found = await info.context.loaders.article.load(pk)
        current = ArticleType.from_model(found) if found else None
    return ArticlePayload(article=current, errors=errors)


@strawberry.type
class ArticleMutation:
    @strawberry.mutation(permission_classes=[IsEditor], description="Write a new draft.")
    async def create_article(self, info: Info, input: CreateArticleInput) -> ArticlePayload:
        viewer = info.context.viewer
        data, known = input.to_data()
        result, errors = await perform(
            info,
            lambda s: article_edits.create_article(s, viewer=viewer, data=data, known_errors=known),
        )
        return await _payload(info, None, result, errors)

    @strawberry.mutation(
        permission_classes=[IsEditor],
        description="Change an article; refused with CONFLICT unless it is still at "
        "expectedVersion.",
    )
    async def update_article(
        self, info: Info, id: strawberry.ID, expected_version: int, input: UpdateArticleInput
    ) -> ArticlePayload:
        viewer = info.context.viewer
        pk: int | None = None
        data, known = input.to_data()

        async def run(session: AsyncSession) -> Article:
            nonlocal pk
            pk = _pk(id)
            return await article_edits.update_article(
                session,
                viewer=viewer,
                id=pk,
                expected_version=expected_version,
                data=data,
                known_errors=known,
            )

        result, errors = await perform(info, run)
        return await _payload(info, pk, result, errors)

    @strawberry.mutation(
        permission_classes=[IsEditor],
        description="Publish now, or schedule: a future `at` makes it public at that moment.",
    )
    async def publish_article(
        self, info: Info, id: strawberry.ID, at: datetime | None = None
    ) -> ArticlePayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: article_edits.publish_article(s, viewer=viewer, id=_pk(id), at=at)
        )
        return await _payload(info, None, result, errors)

    @strawberry.mutation(permission_classes=[IsEditor], description="Back to draft.")
    async def unpublish_article(self, info: Info, id: strawberry.ID) -> ArticlePayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: article_edits.unpublish_article(s, viewer=viewer, id=_pk(id))
        )
        return await _payload(info, None, result, errors)

    @strawberry.mutation(permission_classes=[IsEditor])
    async def archive_article(self, info: Info, id: strawberry.ID) -> ArticlePayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: article_edits.archive_article(s, viewer=viewer, id=_pk(id))
        )
        return await _payload(info, None, result, errors)

    @strawberry.mutation(permission_classes=[IsEditor])
    async def delete_article(self, info: Info, id: strawberry.ID) -> DeletePayload:
        viewer = info.context.viewer
        result, errors = await perform(
            info, lambda s: article_edits.delete_article(s, viewer=viewer, id=_pk(id))
        )
        return DeletePayload(deleted_id=id if result is not None else None, errors=errors)

    @strawberry.mutation(
        permission_classes=[IsEditor], description="A public, timestamped correction note."
    )
    async def add_correction(
        self, info: Info, article_id: strawberry.ID, note: str
    ) -> CorrectionPayload:
        viewer = info.context.viewer
        pk: int | None = None

        async def run(session: AsyncSession) -> ArticleCorrection:
            nonlocal pk
            pk = _pk(article_id, field="articleId")
            return await article_edits.add_correction(
                session, viewer=viewer, article_id=pk, note=note
            )

        result, errors = await perform(info, run)
        if result is None or pk is None:
            return CorrectionPayload(correction=None, article=None, errors=errors)
        article = await info.context.loaders.article.load(pk)
        return CorrectionPayload(
            correction=Correction.from_model(result),
            article=ArticleType.from_model(article) if article else None,
            errors=[],
        )

    @strawberry.mutation(
        permission_classes=[IsEditor],
        description="Bring back an older revision's content, as a new version.",
    )
    async def restore_article_revision(
        self, info: Info, id: strawberry.ID, revision: int, expected_version: int
    ) -> ArticlePayload:
        viewer = info.context.viewer
        pk: int | None = None

        async def run(session: AsyncSession) -> Article:
            nonlocal pk
            pk = _pk(id)
            return await article_edits.restore_article_revision(
                session, viewer=viewer, id=pk, revision=revision, expected_version=expected_version
            )

        result, errors = await perform(info, run)
        return await _payload(info, pk, result, errors)
