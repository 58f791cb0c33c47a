"""The catalogue's tables, one per area of the code."""

from . import (accounts, backups, boundaries, cases, common, complaints, dossier, field_uploads, figures,
               imagery, imports, moves, ogc_filters, pages, patrols, review, service, storage, sync, tracking)

TABLES = [m.MESSAGES for m in (common, imports, boundaries, tracking, cases, accounts, complaints, patrols,
                               figures, service, ogc_filters, storage, backups, moves, dossier, review, sync,
                               field_uploads, imagery, pages)]
