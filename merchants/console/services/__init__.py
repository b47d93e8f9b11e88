"""The console's writes, one module per area: ``actions`` (the members' audit trail),
``webhooks``, ``desk`` (check-in, booking, check-out), ``office`` (disputes, bills).
Each top-level function is one transaction and records who acted."""
