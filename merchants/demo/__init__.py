"""The demo city that ``manage.py seed_demo`` writes: merchants, residents with two years
of history, and a demo citizen with a known password.

- ``city``: the fixed parts (merchants, names, the nights the batch ran).
- ``plan``: what each resident did, worked out in Python without a database.
- ``write``: the rows, through the services (merchants, keys) or in bulk (history).
"""
