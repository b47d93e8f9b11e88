"""The console's views, one module per area; each wraps its views in
``merchants.console.access.console_view`` and calls services, never writing models."""
