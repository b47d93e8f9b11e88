"""The product's URLs plus the bench's limit endpoint (served by ``bench.settings`` only)."""

from django.urls import include, path

from bench.limit import LimitView
from config import urls as product_urls

urlpatterns = [
    path("bench/limit", LimitView.as_view(), name="bench-limit"),
    path("", include(product_urls)),
]

handler404 = product_urls.handler404
handler500 = product_urls.handler500
