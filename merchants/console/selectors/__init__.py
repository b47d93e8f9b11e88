"""The console's reads, one module per area, each scoped to one merchant."""
