"""Governance has no tables of its own yet. The module exists so that Django sends this
app's ``post_migrate`` (it does only for apps with a models module), on which the staff
roles are synced (``governance.apps``), after every app whose permissions they name."""
