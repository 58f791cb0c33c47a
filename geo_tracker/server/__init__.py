"""The HTTP service. ``app.create_app`` wires ``api/`` (JSON), ``pages/`` (Chinese pages),
``ogc/`` (OGC API Features) and ``tiles.py`` side by side over ``deps.py`` (who asks and
their scope), ``uploads.py`` and ``errors.py``. The API and the pages never import each other."""
