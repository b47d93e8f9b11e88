"""The console's forms, one module per area."""
