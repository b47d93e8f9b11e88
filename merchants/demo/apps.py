from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo city's seeder (``manage.py seed_demo``), for development only."""

    name = "merchants.demo"
    label = "demo"
    verbose_name = "Demo"
