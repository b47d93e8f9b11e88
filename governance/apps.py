from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Who on staff may do what (roles), and the evidence behind what goes live: the
    layer above every merchant app, read by none of them."""

    name = "governance"
    verbose_name = "Governance"
