"""Every error geo_tracker raises on purpose.

All derive from :class:`GeoTrackerError`, so callers catch ours in one place.
Each class carries the process exit code the CLI uses and the HTTP status the
service will use: 2 / 4xx for what a user can fix, 1 / 500 for our own bugs.
Messages name the file, feature and field at fault and say what to do.
"""

from __future__ import annotations


class GeoTrackerError(Exception):
    """Base of every error geo_tracker raises deliberately.

    ``field`` names the input at fault (an option, a form field, an attribute) when
    there is one; the service returns it beside the message. ``hint`` says what to do,
    in words that fit every interface (no option names, no page buttons); it is kept
    beside the message, never inside it, so ``str(error)`` is the message alone. ``details`` are
    values a client acts on (how many bytes of an upload arrived), answered beside the message.
    """

    exit_code = 2
    http_status = 422

    def __init__(self, message="", *, field: str | None = None, hint: str | None = None,
                 details: dict | None = None):
        super().__init__(message)
        self.field = field
        self.hint = hint
        self.details = details

    def text(self, lang: str = "en", interface: str = "cli") -> str:
        """The message in ``lang`` ("zh", "en") with the hint for ``interface`` ("cli", "web", "api");
        ``message`` may be a catalogue :class:`~geo_tracker.catalogue.Message` or plain text."""
        from .catalogue import text_of

        return text_of(self, lang, interface)


class InvalidValueError(GeoTrackerError):
    """A value that cannot be right: a date before the patch was issued, an area beyond the
    patch, a reference that names several things, a word not in its list, a number out of
    range, a required value left empty, options that exclude each other. Fix the value (422)."""


class InvalidQueryError(InvalidValueError):
    """A query of the OGC API that cannot be read: a CQL2 filter (with where it fails), a sortby,
    a bbox, a crs or a datetime. OGC API Features answers these 400."""

    http_status = 400


class ConflictError(GeoTrackerError):
    """The request contradicts what is recorded: already closed, already linked, a number in
    use, nothing loaded yet to do it with. Look at the record first (409)."""

    http_status = 409


class TransitionError(ConflictError):
    """A step the patch's status does not allow (e.g. closing a patch not yet verified)."""


class InternalError(GeoTrackerError):
    """An invariant of our own was broken: a bug, not the user's fault."""

    exit_code = 1
    http_status = 500


# --- configuration and storage -------------------------------------------------


class DatabaseURLError(GeoTrackerError):
    """The database URL cannot be understood."""


class DatabaseUnavailableError(GeoTrackerError):
    """The database server cannot be reached or refuses us."""

    http_status = 503


class SpatialExtensionError(DatabaseUnavailableError):
    """SpatiaLite cannot be loaded, or PostGIS is not installed on the server."""


class SchemaError(GeoTrackerError):
    """The database schema is missing, older or newer than this version of geo_tracker."""

    http_status = 503


class SchemaNotInitialisedError(SchemaError):
    """The database has no geo_tracker tables yet."""


class SchemaOutdatedError(SchemaError):
    """The database was made by an older geo_tracker and needs `geo-tracker init`."""


class SchemaTooNewError(SchemaError):
    """The database was made by a newer geo_tracker than this one."""


class StaleRowError(GeoTrackerError):
    """Someone else changed the row since it was read (row_version mismatch)."""

    http_status = 409


class NotFoundError(GeoTrackerError):
    """A named thing (batch, patch, case, unit) does not exist."""

    http_status = 404


class BatchNotFoundError(NotFoundError):
    """No batch with that name (and source)."""


# --- input files -------------------------------------------------------------------


class InputFileError(GeoTrackerError):
    """A file given to geo_tracker is missing, unreadable or not what it claims."""

    http_status = 422


class BackupDamagedError(InputFileError):
    """A backup archive that is truncated, altered or incomplete: which member, what differs."""


class LedgerConflictError(ConflictError):
    """A restore or a move whose target already holds data (another ledger, or this one again
    where that would change nothing)."""


class UnsafeArchiveError(InputFileError):
    """A zip member would escape the extraction folder, is a link, or is a zip bomb."""


class UnsupportedFormatError(InputFileError):
    """The file is not a polygon dataset geo_tracker can import."""


class LayerSelectionError(InputFileError):
    """A multi-layer source needs --layer, or the named layer does not exist."""


class EncodingDetectionError(InputFileError):
    """Text attributes cannot be decoded in any candidate encoding."""


class CRSDetectionError(InputFileError):
    """The coordinate reference system cannot be decided, or contradicts the coordinates."""


class FieldMappingError(InputFileError):
    """A delivery's fields cannot be mapped: a field named on the command line or required by a
    profile is missing, none of the known names is there, a field meant to hold numbers holds
    text, or the profile is unknown. A bad value of an option is an :class:`InvalidValueError`."""


class BatchImportError(InputFileError):
    """The batch cannot be imported as a whole (duplicate codes, invalid features, ...)."""

    def __init__(self, message: str, problems: list[dict] | None = None, *, field: str | None = None,
                 hint: str | None = None):
        super().__init__(message, field=field, hint=hint)
        self.problems = problems or []


class DuplicateDeliveryError(BatchImportError):
    """The delivery, or some of its patches, is already held under another batch: importing it
    would count the same land twice. ``--accept-duplicates`` overrides after a look."""

    http_status = 409


class ZuobiaoFormatError(InputFileError):
    """A 坐标txt (报部格式) file breaks the format in a way that cannot be read around."""


class RasterError(InputFileError):
    """An image (影像) that cannot be imported: not a raster, truncated, no georeference, a CRS or
    footprint outside China, an MBTiles without bounds."""



# --- the service: who may do what, what may be sent ------------------------------------


class ConfigurationError(GeoTrackerError):
    """A setting in the environment or the configuration file is missing or wrong."""


class AuthenticationError(GeoTrackerError):
    """No valid login, session or token came with the request."""

    http_status = 401


class PermissionDeniedError(GeoTrackerError):
    """The user is logged in but their role does not allow this action."""

    http_status = 403


class TooManyAttemptsError(AuthenticationError):
    """Too many failed logins for this account or from this address: wait ``retry_after`` seconds."""

    http_status = 429

    def __init__(self, message: str = "", *, retry_after: int = 1, field: str | None = None,
                 hint: str | None = None):
        super().__init__(message, field=field, hint=hint)
        self.retry_after = retry_after


class StorageFullError(GeoTrackerError):
    """The disk holding the database or the evidence is full or read-only: nothing was written."""

    http_status = 507


class CSRFError(PermissionDeniedError):
    """A form or request sent with a session cookie lacks the session's CSRF token."""


class UploadTooLargeError(InputFileError):
    """An upload is larger than the configured limit."""

    http_status = 413


class UploadTypeError(InputFileError):
    """An uploaded evidence file is not one of the allowed types (checked by content)."""


class AccountError(GeoTrackerError):
    """A user or token cannot be created or changed as asked (duplicate name, weak password, ...)."""
