"""Domain layer: tables, rules and use cases.

May import sqlmodel, sqlalchemy and pydantic; never strawberry or starlette.
Importing this package registers every table on ``SQLModel.metadata``.
"""

from models.article import (
    Article,
    ArticleAuthor,
    ArticleSlugAlias,
    ArticleStatus,
    ArticleTag,
    Language,
)
from models.audit import AuditEntry
from models.author import Author
from models.content import ContentState
from models.document import PersistedDocument
from models.office import Office, OfficeException, OfficeHours, OfficePhone, PhoneKind
from models.revision import ArticleCorrection, ArticleRevision
from models.tag import Tag
from models.token import ApiToken
from models.viewer import Role, Viewer
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery

__all__ = [
    "ApiToken",
    "Article",
    "ArticleAuthor",
    "ArticleCorrection",
    "ArticleRevision",
    "ArticleSlugAlias",
    "ArticleStatus",
    "ArticleTag",
    "AuditEntry",
    "Author",
    "ContentState",
    "DeliveryStatus",
    "Language",
    "Office",
    "OfficeException",
    "OfficeHours",
    "OfficePhone",
    "PersistedDocument",
    "PhoneKind",
    "Role",
    "Tag",
    "Viewer",
    "Webhook",
    "WebhookDelivery",
]
