"""Spatial DDL for migrations, registered the way each backend's tools expect.

SpatiaLite: ``AddGeometryColumn`` (a row in ``geometry_columns``) and an R*Tree via
``CreateSpatialIndex``. PostGIS: a typmod column ``geometry(MultiPolygon, 4490)``
(listed by the ``geometry_columns`` view) and a GiST index. GDAL and QGIS find both.
Migrations call these with literal values; once released, a migration's output must
never change, so change these helpers only by adding new ones.
"""

from alembic import op


def add_geometry_column(
    table: str, column: str = "geom", geometry_type: str = "MULTIPOLYGON", srid: int = 4490,
    *, nullable: bool = False,
) -> None:
    if op.get_bind().dialect.name == "sqlite":
        not_null = "" if nullable else ", 1"
        op.execute(
            f"SELECT AddGeometryColumn('{table}', '{column}', {srid}, '{geometry_type}', 'XY'{not_null})"
        )
        op.execute(f"SELECT CreateSpatialIndex('{table}', '{column}')")
    else:
        null = "" if nullable else " NOT NULL"
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} geometry({geometry_type}, {srid}){null}")
        op.execute(f"CREATE INDEX ix_{table}_{column} ON {table} USING GIST ({column})")


def drop_geometry_column(table: str, column: str = "geom") -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"SELECT DisableSpatialIndex('{table}', '{column}')")
        op.execute(f"DROP TABLE IF EXISTS idx_{table}_{column}")
        op.execute(f"SELECT DiscardGeometryColumn('{table}', '{column}')")
    else:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def create_spatial_view(view: str, select: str, *, rowid: str = "id", table: str = "patches",
                        column: str = "geom") -> None:
    """A view with a geometry column that QGIS and ogrinfo open as a layer.

    SpatiaLite needs the view registered in ``views_geometry_columns`` against the table
    whose geometry (and R*Tree) it shows; PostGIS lists a view's typmod column by itself.
    """
    op.execute(f"CREATE VIEW {view} AS {select}")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "INSERT INTO views_geometry_columns (view_name, view_geometry, view_rowid, f_table_name, "
            f"f_geometry_column, read_only) VALUES ('{view}', '{column}', '{rowid}', '{table}', '{column}', 1)"
        )


def drop_spatial_view(view: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DELETE FROM views_geometry_columns WHERE view_name = '{view}'")
    op.execute(f"DROP VIEW IF EXISTS {view}")
