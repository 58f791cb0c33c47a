"""geo_tracker: track land and forest violation patches (图斑) from issue to closure.

Layers, from the bottom up:

- ``core``      pure computation: area, CRS, geometry repair (no files, no database)
- ``io``        reading bureau deliveries into one normalised frame
- ``store``     SpatiaLite / PostGIS persistence and migrations
- ``services``  the use cases (init, import, ...), one function each
- ``cli``       the ``geo-tracker`` command, a thin layer over services
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
