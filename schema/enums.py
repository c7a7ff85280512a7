"""The domain's enums, exposed to GraphQL under their own names."""

import strawberry

from models.article import ArticleStatus as ArticleStatusModel
from models.article import Language as LanguageModel
from models.office import PhoneKind as PhoneKindModel
from models.services.articles import ArticleOrder as ArticleOrderModel

Language = strawberry.enum(LanguageModel, description="Language of an article: be, ru or en.")
ArticleStatus = strawberry.enum(ArticleStatusModel)
ArticleOrder = strawberry.enum(ArticleOrderModel, description="Sort order of an article list.")
PhoneKind = strawberry.enum(PhoneKindModel)
