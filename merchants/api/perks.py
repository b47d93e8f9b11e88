"""``GET /api/v1/me/perks``: what each merchant's perk asks for and where the citizen
stands. (Being written.)"""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class PerksView(APIView):
    def get(self, request: Request) -> Response:
        return Response([])
