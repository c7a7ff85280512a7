"""Domain layer: tables, rules and use cases.

May import sqlmodel, sqlalchemy and pydantic; never strawberry or starlette.
Importing this package registers every table on ``SQLModel.metadata``.
"""

from models.article import Article, ArticleAuthor, ArticleStatus, ArticleTag, Language
from models.author import Author
from models.office import Office, OfficeException, OfficeHours, OfficePhone, PhoneKind
from models.tag import Tag
from models.viewer import Role, Viewer

__all__ = [
    "Article",
    "ArticleAuthor",
    "ArticleStatus",
    "ArticleTag",
    "Author",
    "Language",
    "Office",
    "OfficeException",
    "OfficeHours",
    "OfficePhone",
    "PhoneKind",
    "Role",
    "Tag",
    "Viewer",
]
