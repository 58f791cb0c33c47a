"""Interactive maps (Leaflet via folium) that work offline: every asset ships with the package."""
