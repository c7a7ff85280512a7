"""Who may read what: the one place the API checks the viewer's role."""

from schema.context import Info


def can_read_private(info: Info) -> bool:
    """Private fields (an author's e-mail) are for editors and admins only."""
    return info.context.viewer.sees_unpublished
