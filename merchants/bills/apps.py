from django.apps import AppConfig


class BillsConfig(AppConfig):
    """Bills billers issue to citizens, and the task that records overdue ones."""

    name = "merchants.bills"
    label = "bills"
    verbose_name = "Bills"
