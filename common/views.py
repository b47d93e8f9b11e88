"""View bases shared by every app's API."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.serializers import Serializer


def list_schema(
    operation_id: str, serializer: type[Serializer], *, summary: str = "", description: str = ""
) -> Any:
    """The schema of a citizen's list: its operation id, summary, rows (its errors, 401
    and the 404 of a page past the last, ``common.schema`` documents by itself); the
    description is the view's docstring unless given."""
    return extend_schema_view(
        get=extend_schema(
            operation_id=operation_id,
            summary=summary or None,
            description=description or None,
            responses={200: serializer(many=True)},
        )
    )
