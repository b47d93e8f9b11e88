"""Settings for the server that ``bench.eligibility`` starts: the product's settings
(production values, read from the environment as in production), with the bench's URL
configuration, which adds the limit endpoint. The product's own URLs never carry it."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
