"""View bases shared by every app's API."""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.serializers import Serializer

from common.schema import PAGE_NOT_FOUND, problem_responses


def list_schema(operation_id: str, serializer: type[Serializer]) -> Any:
    """The schema of a citizen's list: its operation id, its rows, 401, and the 404 of a
    page past the last."""
    return extend_schema_view(
        get=extend_schema(
            operation_id=operation_id,
            responses={
                200: serializer(many=True),
                **problem_responses(401, 404, descriptions={404: PAGE_NOT_FOUND}),
            },
        )
    )
