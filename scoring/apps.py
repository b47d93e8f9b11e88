from django.apps import AppConfig


class ScoringConfig(AppConfig):
    """Credit events, scorecards, score snapshots, disputes and the access log."""

    name = "scoring"
    verbose_name = "Scoring"
