"""HTTP interfaces over the services (the tile server now; the full service later)."""
