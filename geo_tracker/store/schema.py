"""Table definitions for queries (SQLAlchemy Core), mirroring the migrations.

The migrations own the DDL; these objects only let services build queries
without string SQL. Geometry columns are read and written through the
backend's ``geometry_as_wkb`` / ``geometry_from_wkb`` so both dialects agree.
"""

import sqlalchemy as sa

metadata = sa.MetaData()
JSON = sa.JSON()

admin_units = sa.Table(
    "admin_units", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(12)),
    sa.Column("name", sa.Text),
    sa.Column("level", sa.String(16)),
    sa.Column("parent_code", sa.String(12)),
    sa.Column("valid_from", sa.Date),
    sa.Column("valid_to", sa.Date),
    sa.Column("source_file", sa.Text),
    sa.Column("attrs", JSON),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

batches = sa.Table(
    "batches", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source", sa.String(32)),
    sa.Column("name", sa.Text),
    sa.Column("issued_on", sa.Date),
    sa.Column("deadline", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("row_version", sa.Integer),
)

patches = sa.Table(
    "patches", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.Integer),
    sa.Column("patch_code", sa.Text),
    sa.Column("version", sa.Integer),
    sa.Column("is_current", sa.Boolean),
    sa.Column("withdrawn", sa.Boolean),
    sa.Column("status", sa.String(16)),
    sa.Column("area_mu", sa.Float),
    sa.Column("issued_area_mu", sa.Float),
    sa.Column("cultivated_mu", sa.Float),
    sa.Column("attrs", JSON),
    sa.Column("flags", JSON),
    sa.Column("row_version", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("superseded_at", sa.DateTime(timezone=True)),
    sa.Column("import_id", sa.Integer),
    sa.Column("feature_no", sa.Integer),
    sa.Column("fingerprint", sa.String(64)),
    sa.Column("forest_mu", sa.Float),
    sa.Column("cultivated_source", sa.String(16)),
    sa.Column("lineage_id", sa.Integer),
    sa.Column("deadline", sa.Date),
    sa.Column("status_on", sa.Date),
    sa.Column("rectified_mu", sa.Float),
    sa.Column("rectified_cultivated_mu", sa.Float),
    sa.Column("verified", sa.String(16)),
    sa.Column("case_numbers", JSON),
    sa.Column("batch_issued_on", sa.Date),   # the partition key on PostGIS
)

batch_imports = sa.Table(
    "batch_imports", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("batch_id", sa.Integer),
    sa.Column("file_name", sa.Text),
    sa.Column("dataset", sa.Text),
    sa.Column("driver", sa.String(32)),
    sa.Column("layer", sa.Text),
    sa.Column("file_sha256", sa.String(64)),
    sa.Column("issued_on", sa.Date),
    sa.Column("deadline", sa.Date),
    sa.Column("imported_at", sa.DateTime(timezone=True)),
    sa.Column("crs", sa.Text),
    sa.Column("crs_reason", sa.Text),
    sa.Column("encoding", sa.String(32)),
    sa.Column("features_read", sa.Integer),
    sa.Column("accepted", sa.Integer),
    sa.Column("area_mu", sa.Float),
    sa.Column("report", JSON),
    sa.Column("imported_by", sa.Text),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(32)),
    sa.Column("occurred_on", sa.Date),
    sa.Column("recorded_at", sa.DateTime(timezone=True)),
    sa.Column("actor", sa.Text),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id")),
    sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id")),
    sa.Column("payload", JSON),
    sa.Column("voided_by", sa.Integer, sa.ForeignKey("events.id")),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id")),
)

cases = sa.Table(
    "cases", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_no", sa.Text),
    sa.Column("opened_on", sa.Date),
    sa.Column("violation", sa.Text),
    sa.Column("act", sa.Text),
    sa.Column("fine_yuan", sa.Float),
    sa.Column("decided_on", sa.Date),
    sa.Column("decided_fine_yuan", sa.Float),
    sa.Column("closed_on", sa.Date),
    sa.Column("note", sa.Text),
    sa.Column("row_version", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("category", sa.Text),
    sa.Column("outcome", sa.Text),
    sa.Column("executed_on", sa.Date),
)

case_patches = sa.Table(
    "case_patches", metadata,
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
    sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id"), primary_key=True),
    sa.Column("linked_on", sa.Date),
)

evidence = sa.Table(
    "evidence", metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("file_name", sa.Text),
    sa.Column("size_bytes", sa.Integer),
    sa.Column("media_type", sa.Text),
    sa.Column("taken_at", sa.Text),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    sa.Column("stored_path", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

patch_relapses = sa.Table(
    "patch_relapses", metadata,
    sa.Column("patch_id", sa.Integer, primary_key=True),
    sa.Column("earlier_patch_id", sa.Integer, primary_key=True),
    sa.Column("overlap_share", sa.Float),
    sa.Column("detected_at", sa.DateTime(timezone=True)),
)

vocabulary = sa.Table(
    "vocabulary", metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("value", sa.Text, primary_key=True),
)

patrols = sa.Table(
    "patrols", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("patrolled_on", sa.Date),
    sa.Column("members", sa.Text),
    sa.Column("departments", JSON),
    sa.Column("note", sa.Text),
    sa.Column("actor", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

patrol_villages = sa.Table(
    "patrol_villages", metadata,
    sa.Column("patrol_id", sa.Integer, primary_key=True),
    sa.Column("village_code", sa.String(12), primary_key=True),
)

patrol_findings = sa.Table(
    "patrol_findings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("patrol_id", sa.Integer),
    sa.Column("patch_id", sa.Integer),
    sa.Column("category", sa.Text),
    sa.Column("note", sa.Text),
)

complaints = sa.Table(
    "complaints", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("received_on", sa.Date),
    sa.Column("channel", sa.String(16)),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    sa.Column("village_code", sa.String(12)),
    sa.Column("category", sa.Text),
    sa.Column("content", sa.Text),
    sa.Column("respond_by", sa.Date),
    sa.Column("complete_by", sa.Date),
    sa.Column("responded_on", sa.Date),
    sa.Column("closed_on", sa.Date),
    sa.Column("result", sa.Text),
    sa.Column("patch_id", sa.Integer),
    sa.Column("case_id", sa.Integer),
    sa.Column("actor", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

review_policies = sa.Table(
    "review_policies", metadata,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("levels", sa.Text),
    sa.Column("review_days", sa.Integer),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("updated_by", sa.Text),
)

ledger = sa.Table(
    "ledger", metadata,
    sa.Column("ledger_id", sa.String(36), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

backups = sa.Table(
    "backups", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("taken_at", sa.DateTime(timezone=True)),
    sa.Column("file_name", sa.Text),
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("sha256", sa.String(64)),
    sa.Column("trigger", sa.String(16)),
    sa.Column("actor", sa.Text),
)

#: Every table of a ledger, parents before children (the order a copy inserts in); a test holds
#: it to the tables the migrations make. ``sessions`` are logins of one server, never copied.
LEDGER_TABLES = ["ledger", "admin_units", "landuse_parcels", "batches", "batch_imports", "patches", "patch_matches",
                 "patch_villages", "patch_relapses", "cases", "case_patches", "events", "evidence", "vocabulary",
                 "patrols", "patrol_villages", "patrol_findings", "complaints", "users", "user_units", "api_tokens",
                 "backups", "review_policies", "action_keys", "imagery"]
NOT_COPIED = ["sessions"]

#: Tables whose row counts `geo-tracker info` prints.
COUNTED_TABLES = ["admin_units", "batches", "batch_imports", "patches", "events", "cases"]

action_keys = sa.Table(
    "action_keys", metadata,
    sa.Column("action_key", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("events.id")),
    sa.Column("actor", sa.Text),
    sa.Column("recorded_at", sa.DateTime(timezone=True)),
)

imagery = sa.Table(
    "imagery", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("label", sa.Text),
    sa.Column("acquired_on", sa.Date),
    sa.Column("kind", sa.String(16)),
    sa.Column("sha256", sa.String(64)),
    sa.Column("source_sha256", sa.String(64)),
    sa.Column("stored_path", sa.Text),
    sa.Column("file_name", sa.Text),
    sa.Column("size_bytes", sa.BigInteger),
    sa.Column("crs", sa.Text),
    sa.Column("crs_reason", sa.Text),
    sa.Column("resolution_m", sa.Float),
    sa.Column("min_zoom", sa.Integer),
    sa.Column("max_zoom", sa.Integer),
    sa.Column("tile_format", sa.String(8)),
    sa.Column("patch_id", sa.Integer, sa.ForeignKey("patches.id")),
    sa.Column("warnings", JSON),
    sa.Column("imported_at", sa.DateTime(timezone=True)),
    sa.Column("imported_by", sa.Text),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64)),
    sa.Column("display_name", sa.Text),
    sa.Column("role", sa.String(16)),
    sa.Column("password_hash", sa.Text),
    sa.Column("disabled", sa.Boolean),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)

user_units = sa.Table(
    "user_units", metadata,
    sa.Column("user_id", sa.Integer, primary_key=True),
    sa.Column("unit_code", sa.String(12), primary_key=True),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer),
    sa.Column("name", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("revoked", sa.Boolean),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer),
    sa.Column("csrf_token", sa.String(64)),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
)
