"""What editors do to articles: write, correct, publish and schedule, restore.

Each use case is one transaction: the article row, its links, its revision and
the audit entry commit together or not at all. Updates are optimistic: the
``UPDATE ... WHERE version = :expected`` itself decides, so of two editors who
read the same version only one wins and the other gets ``Conflict``.
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.article import (
    CONTENT_FIELDS,
    Article,
    ArticleAuthor,
    ArticleCreate,
    ArticleInput,
    ArticlePatch,
    ArticleSlugAlias,
    ArticleStatus,
    ArticleTag,
    Language,
)
from models.author import Author
from models.columns import is_storable, require_aware, utcnow
from models.errors import Conflict, DomainError, Duplicate, InvalidInput, NotFound, Required
from models.rendering import render_markdown
from models.revision import ArticleCorrection, ArticleRevision
from models.services import audit, events
from models.slugs import slugify
from models.tag import Tag
from models.validation import check, raise_all
from models.viewer import Viewer

ENTITY = "article"
SLUG_ATTEMPTS = 10


async def insert_article(
    session: AsyncSession,
    *,
    data: ArticleCreate,
    author_ids: Sequence[int] = (),
    tag_ids: Sequence[int] = (),
) -> Article:
    """Store an article exactly as given (seed content, imports): no workflow, no audit."""
    article = Article.model_validate(data)
    article.body_html = render_markdown(article.body)
    if article.translation_group is None:
        article.translation_group = str(uuid.uuid4())
    session.add(article)
    await session.flush()
    assert article.id is not None
    await _write_links(session, article.id, author_ids, tag_ids)
    session.add(
        ArticleRevision(
            article_id=article.id,
            version=1,
            snapshot=_snapshot(article, author_ids, tag_ids),
            changed_fields=list(CONTENT_FIELDS),
        )
    )
    events.content_changed(session)
    await session.commit()
    return article


async def create_article(
    session: AsyncSession,
    *,
    viewer: Viewer,
    data: dict[str, Any],
    known_errors: Sequence[DomainError] = (),
) -> Article:
    """A new draft from an editor's input; the slug comes from the title when not given.

    ``known_errors``: problems found while decoding the input, reported with the rest.
    """
    given, errors = check(ArticleInput, data)
    errors = [*known_errors, *errors]
    # Referenced rows are checked even when other fields are bad: one round of fixes.
    errors += await _missing_refs(session, _ids(data, "author_ids"), _ids(data, "tag_ids"))
    if given is None:
        raise_all(errors)
    assert given is not None
    group = None
    if given.translation_of is not None:
        group, problem = await _translation_group(session, given.translation_of, given.language)
        if problem:
            errors.append(problem)
    slug = given.slug
    if slug is not None and await _slug_taken(session, slug, given.language, None):
        errors.append(Duplicate(f"The slug '{slug}' is already used", field="slug"))
    raise_all(errors)
    # A generated slug can be taken by a concurrent create between the check and the
    # insert: pick the next free one and try again. A slug the client chose is theirs.
    for attempt in range(1, SLUG_ATTEMPTS + 1):
        chosen = slug or await free_slug(
            session, slugify(given.title, given.language) or "article", given.language
        )
        try:
            return await _insert_draft(session, viewer, given, chosen, group)
        except IntegrityError:
            await session.rollback()
            if slug is not None or attempt == SLUG_ATTEMPTS:
                raise Duplicate(f"The slug '{chosen}' is already used", field="slug") from None
    raise AssertionError("unreachable")


async def _insert_draft(
    session: AsyncSession, viewer: Viewer, given: ArticleInput, slug: str, group: str | None
) -> Article:
    article = Article(
        slug=slug,
        title=given.title,
        lead=given.lead,
        body=given.body,
        body_html=render_markdown(given.body),
        language=given.language,
        status=ArticleStatus.DRAFT,
        source_name=given.source_name,
        source_url=str(given.source_url) if given.source_url else None,
        translation_group=group or str(uuid.uuid4()),
    )
    session.add(article)
    await session.flush()
    assert article.id is not None
    await _write_links(session, article.id, given.author_ids, given.tag_ids)
    session.add(
        ArticleRevision(
            article_id=article.id,
            version=1,
            actor=viewer.token_name,
            changed_fields=list(CONTENT_FIELDS),
            snapshot=_snapshot(article, given.author_ids, given.tag_ids),
        )
    )
    hidden = {"was_public": False, "is_public": False}  # a draft
    audit.record(session, viewer, "article.created", ENTITY, article.id, hidden, slug=slug)
    await session.commit()
    return article


async def update_article(
    session: AsyncSession,
    *,
    viewer: Viewer,
    id: int,
    expected_version: int,
    data: dict[str, Any],
    action: str = "article.updated",
    known_errors: Sequence[DomainError] = (),
) -> Article:
    """Apply the given fields if the article is still at ``expected_version``.

    ``known_errors`` are problems the caller found while decoding the input (a malformed
    ID): they are reported together with everything found here, and nothing is written.
    """
    patch, errors = check(ArticlePatch, data)
    errors = [*known_errors, *errors, *ArticlePatch.nulled_required(data)]
    article = await _get(session, id)
    raise_all(errors)
    assert patch is not None
    if article.version != expected_version:
        raise _conflict(article.version)
    links = await _links(session, id)
    before = _snapshot(article, *links)
    after = dict(before)
    for name in patch.model_fields_set:
        value = getattr(patch, name)
        after[name] = str(value) if name == "source_url" and value is not None else value
        if isinstance(after[name], Language):
            after[name] = after[name].value
    changed = [name for name in CONTENT_FIELDS if after[name] != before[name]]
    errors += await _missing_refs(
        session,
        after["author_ids"] if "author_ids" in changed else [],
        after["tag_ids"] if "tag_ids" in changed else [],
    )
    language = Language(after["language"])
    if ("slug" in changed or "language" in changed) and await _slug_taken(
        session, after["slug"], language, id
    ):
        errors.append(Duplicate(f"The slug '{after['slug']}' is already used", field="slug"))
    if "language" in changed and await _language_taken(session, article, language):
        errors.append(
            Duplicate("This story already has a translation in that language", field="language")
        )
    raise_all(errors)
    if not changed:
        return article  # nothing to apply: no new version, no revision
    return await _apply(session, viewer, article, expected_version, before, after, changed, action)


async def restore_article_revision(
    session: AsyncSession, *, viewer: Viewer, id: int, revision: int, expected_version: int
) -> Article:
    """Bring back the content of an older revision, as a new revision."""
    await _get(session, id)
    stmt = select(ArticleRevision).where(
        col(ArticleRevision.article_id) == id, col(ArticleRevision.version) == revision
    )
    found = (await session.exec(stmt)).first()
    if found is None:
        raise NotFound(f"Article has no revision {revision}", field="revision")
    content = {name: found.snapshot[name] for name in CONTENT_FIELDS if name in found.snapshot}
    return await update_article(
        session,
        viewer=viewer,
        id=id,
        expected_version=expected_version,
        data=content,
        action="article.restored",
    )


async def publish_article(
    session: AsyncSession, *, viewer: Viewer, id: int, at: datetime | None = None
) -> Article:
    """Publish now, or at ``at``: a future instant schedules it, with no job to run."""
    when = utcnow() if at is None else require_aware(at, "at").astimezone(UTC)
    article = await _get(session, id)
    was_public = _is_public(article)
    article.status = ArticleStatus.PUBLISHED
    article.published_at = when
    return await _transition(
        session, viewer, article, "article.published", was_public, at=when.isoformat()
    )


async def unpublish_article(session: AsyncSession, *, viewer: Viewer, id: int) -> Article:
    article = await _get(session, id)
    was_public = _is_public(article)
    article.status = ArticleStatus.DRAFT
    article.published_at = None
    return await _transition(session, viewer, article, "article.unpublished", was_public)


async def archive_article(session: AsyncSession, *, viewer: Viewer, id: int) -> Article:
    article = await _get(session, id)
    was_public = _is_public(article)
    article.status = ArticleStatus.ARCHIVED
    return await _transition(session, viewer, article, "article.archived", was_public)


async def delete_article(session: AsyncSession, *, viewer: Viewer, id: int) -> int:
    article = await _get(session, id)
    was_public = _is_public(article)
    await session.delete(article)
    announce = {"was_public": was_public, "is_public": False}
    audit.record(session, viewer, "article.deleted", ENTITY, id, announce, slug=article.slug)
    await session.commit()
    return id


async def add_correction(
    session: AsyncSession, *, viewer: Viewer, article_id: int, note: str
) -> ArticleCorrection:
    """A public, timestamped correction note on an article."""
    note = note.strip()
    if not note:
        raise Required("A correction needs a note", field="note")
    if not is_storable(note):
        raise InvalidInput("This text contains characters that cannot be stored", field="note")
    if len(note) > 2000:
        raise DomainError("A note may have at most 2000 characters", field="note", code="TOO_LONG")
    public = _is_public(await _get(session, article_id, field="articleId"))
    correction = ArticleCorrection(article_id=article_id, note=note, actor=viewer.token_name)
    session.add(correction)
    announce = {"was_public": public, "is_public": public}
    audit.record(session, viewer, "article.corrected", ENTITY, article_id, announce)
    await session.commit()
    return correction


# --- helpers -------------------------------------------------------------------------------


def _is_public(article: Article) -> bool:
    """Anonymous readers can read it now."""
    return (
        article.status == ArticleStatus.PUBLISHED
        and article.published_at is not None
        and article.published_at <= utcnow()
    )


async def _get(session: AsyncSession, id: int, field: str = "id") -> Article:
    article = await session.get(Article, id)
    if article is None:
        raise NotFound("No article with this ID", field=field)
    return article


def _conflict(current: int) -> Conflict:
    return Conflict(
        f"The article was changed by someone else: it is now at version {current}",
        current_version=current,
    )


def _snapshot(
    article: Article, author_ids: Sequence[int], tag_ids: Sequence[int]
) -> dict[str, Any]:
    return {
        "title": article.title,
        "slug": article.slug,
        "lead": article.lead,
        "body": article.body,
        "language": Language(article.language).value,
        "source_name": article.source_name,
        "source_url": article.source_url,
        "author_ids": list(author_ids),
        "tag_ids": list(tag_ids),
    }


async def _links(session: AsyncSession, id: int) -> tuple[list[int], list[int]]:
    authors = await session.exec(
        select(ArticleAuthor.author_id)
        .where(col(ArticleAuthor.article_id) == id)
        .order_by(col(ArticleAuthor.position))
    )
    tags = await session.exec(
        select(ArticleTag.tag_id)
        .where(col(ArticleTag.article_id) == id)
        .order_by(col(ArticleTag.tag_id))
    )
    return list(authors.all()), list(tags.all())


async def _write_links(
    session: AsyncSession, id: int, author_ids: Sequence[int], tag_ids: Sequence[int]
) -> None:
    for position, author_id in enumerate(dict.fromkeys(author_ids)):
        session.add(ArticleAuthor(article_id=id, author_id=author_id, position=position))
    for tag_id in dict.fromkeys(tag_ids):
        session.add(ArticleTag(article_id=id, tag_id=tag_id))
    await session.flush()


def _ids(data: dict[str, Any], name: str) -> list[int]:
    value = data.get(name)
    if isinstance(value, list) and all(type(item) is int for item in value):
        return value
    return []


async def _missing_refs(
    session: AsyncSession, author_ids: Sequence[int], tag_ids: Sequence[int]
) -> list[DomainError]:
    errors: list[DomainError] = []
    for model, ids, field in ((Author, author_ids, "author_ids"), (Tag, tag_ids, "tag_ids")):
        if not ids:
            continue
        found = set((await session.exec(select(model.id).where(col(model.id).in_(ids)))).all())
        errors += [
            NotFound(f"No {model.__name__.lower()} with this ID", field=f"{field}.{i}")
            for i, id in enumerate(ids)
            if id not in found
        ]
    return errors


async def _translation_group(
    session: AsyncSession, original_id: int, language: Language
) -> tuple[str | None, DomainError | None]:
    original = await session.get(Article, original_id)
    if original is None:
        return None, NotFound("No article with this ID", field="translation_of")
    assert original.translation_group is not None
    stmt = select(Article.id).where(
        col(Article.translation_group) == original.translation_group,
        col(Article.language) == language.value,
    )
    if (await session.exec(stmt)).first() is not None:
        problem = Duplicate(
            "This story already has a translation in that language", field="language"
        )
        return None, problem
    return original.translation_group, None


async def _language_taken(session: AsyncSession, article: Article, language: Language) -> bool:
    stmt = select(Article.id).where(
        col(Article.translation_group) == article.translation_group,
        col(Article.language) == language.value,
        col(Article.id) != article.id,
    )
    return (await session.exec(stmt)).first() is not None


async def _slug_taken(
    session: AsyncSession, slug: str, language: Language, own_id: int | None
) -> bool:
    """Used by another article, now or as one of its old slugs."""
    other = col(Article.id) != own_id if own_id is not None else sa.true()
    in_use = select(Article.id).where(
        col(Article.slug) == slug, col(Article.language) == language.value, other
    )
    alias_other = col(ArticleSlugAlias.article_id) != own_id if own_id is not None else sa.true()
    alias = select(ArticleSlugAlias.id).where(
        col(ArticleSlugAlias.slug) == slug,
        col(ArticleSlugAlias.language) == language.value,
        alias_other,
    )
    return (await session.exec(in_use)).first() is not None or (
        await session.exec(alias)
    ).first() is not None


async def free_slug(session: AsyncSession, base: str, language: Language) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is free in this language."""
    pattern = f"{base}-%"
    taken: set[str] = set()
    for column, lang in (
        (col(Article.slug), col(Article.language)),
        (col(ArticleSlugAlias.slug), col(ArticleSlugAlias.language)),
    ):
        stmt = select(column).where(
            lang == language.value, sa.or_(column == base, column.like(pattern))
        )
        taken.update((await session.exec(stmt)).all())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


async def _apply(
    session: AsyncSession,
    viewer: Viewer,
    article: Article,
    expected_version: int,
    before: dict[str, Any],
    after: dict[str, Any],
    changed: list[str],
    action: str,
) -> Article:
    values: dict[str, Any] = {
        name: after[name] for name in changed if name not in ("author_ids", "tag_ids")
    }
    if "body" in values:
        values["body_html"] = render_markdown(values["body"])
    values["version"] = col(Article.version) + 1
    values["updated_at"] = utcnow()
    # Read before the UPDATE: a rollback (or the UPDATE's own sync) expires the object.
    article_id, was_public = article.id, article.published_at is not None
    # A content edit leaves status and date alone: as public after as before.
    public = _is_public(article)
    assert article_id is not None
    stmt = (
        sa.update(Article)
        .where(col(Article.id) == article_id, col(Article.version) == expected_version)
        .values(**values)
    )
    try:
        result = await session.exec(stmt)
        if result.rowcount != 1:
            await session.rollback()
            current = await session.get(Article, article_id, populate_existing=True)
            raise _conflict(current.version if current else expected_version)
        if ("slug" in changed or "language" in changed) and was_public:
            session.add(
                ArticleSlugAlias(
                    article_id=article_id,
                    slug=before["slug"],
                    language=Language(before["language"]),
                )
            )
        if "slug" in changed or "language" in changed:
            await session.exec(
                sa.delete(ArticleSlugAlias).where(
                    col(ArticleSlugAlias.article_id) == article_id,
                    col(ArticleSlugAlias.slug) == after["slug"],
                    col(ArticleSlugAlias.language) == after["language"],
                )
            )
        if "author_ids" in changed or "tag_ids" in changed:
            await session.exec(
                sa.delete(ArticleAuthor).where(col(ArticleAuthor.article_id) == article_id)
            )
            await session.exec(
                sa.delete(ArticleTag).where(col(ArticleTag.article_id) == article_id)
            )
            await _write_links(session, article_id, after["author_ids"], after["tag_ids"])
        session.add(
            ArticleRevision(
                article_id=article_id,
                version=expected_version + 1,
                actor=viewer.token_name,
                changed_fields=changed,
                snapshot=after,
            )
        )
        audit.record(
            session,
            viewer,
            action,
            ENTITY,
            article_id,
            {"was_public": public, "is_public": public},
            version=expected_version + 1,
            fields=changed,
        )
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Duplicate(f"The slug '{after['slug']}' is already used", field="slug") from None
    refreshed = await session.get(Article, article_id, populate_existing=True)
    assert refreshed is not None
    return refreshed


async def _transition(
    session: AsyncSession,
    viewer: Viewer,
    article: Article,
    action: str,
    was_public: bool,
    **details: Any,
) -> Article:
    """A status change: not a content edit, so the version stays; audited.

    Listeners (subscriptions) are told whether the public could read it before and after,
    as of this commit: reading the article later may already see a newer state.
    """
    article.updated_at = utcnow()
    announce = {"was_public": was_public, "is_public": _is_public(article)}
    audit.record(session, viewer, action, ENTITY, article.id, announce, **details)
    await session.commit()
    return article
