"""Getting data in: reading CSV/XLSX, mapping files, vectorised cleaning and row-level reports.

The writing side (permissions, lookups, inserts, audit) is `crm_impl.services.imports`.
"""

from crm_impl.importers.mapping import ENTITIES, EntityMapping, Mapping
from crm_impl.importers.reading import Source, open_source
from crm_impl.importers.report import ImportReport, RowError

__all__ = ["ENTITIES", "EntityMapping", "ImportReport", "Mapping", "RowError", "Source", "open_source"]
