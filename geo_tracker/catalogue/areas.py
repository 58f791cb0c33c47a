"""The catalogue's tables, one per area of the code."""

from . import (accounts, boundaries, cases, common, complaints, figures, imports, ogc_filters, pages, patrols, service,
               storage, tracking)

TABLES = [m.MESSAGES for m in (common, imports, boundaries, tracking, cases, accounts, complaints, patrols,
                               figures, service, ogc_filters, storage, pages)]
