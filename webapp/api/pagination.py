"""Limit/offset pagination whose ``?limit=`` and ``?offset=`` are read like every other integer.

DRF's own pagination quietly falls back to defaults on a bad value; here a
bad value is the same 400 field error as any other query parameter.
"""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from webapp.api.params import query_int


class StrictLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000

    def get_limit(self, request: Request) -> int:
        return query_int(
            request, self.limit_query_param, self.default_limit, minimum=1, maximum=self.max_limit
        )

    def get_offset(self, request: Request) -> int:
        return query_int(request, self.offset_query_param, 0)
