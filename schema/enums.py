"""The domain's enums, registered with Strawberry under their own names.

``strawberry.enum`` attaches a GraphQL definition to the domain class itself, so
the schema annotates fields with the domain enums and no conversion is needed.
"""

import strawberry

from models.article import ArticleStatus, Language
from models.office import PhoneKind
from models.services.articles import ArticleOrder

strawberry.enum(Language, description="Language of an article: be, ru or en.")
strawberry.enum(ArticleStatus)
strawberry.enum(ArticleOrder, description="Sort order of an article list.")
strawberry.enum(PhoneKind)

__all__ = ["ArticleOrder", "ArticleStatus", "Language", "PhoneKind"]
