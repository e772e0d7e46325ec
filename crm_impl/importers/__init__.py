"""Getting data in: the shared import engine — reading CSV/XLSX (encoding, delimiter), mapping
files, vectorised cleaning, row-level reports, dry run / strict runs (`engine.run_import`).

It imports no domain: each domain registers its entities (field specs and handlers) in its own
`importing.py` through `registry.register` (the pipeline does so for its six entities).
"""

from crm_impl.importers.mapping import EntityMapping, Mapping
from crm_impl.importers.reading import Source, open_source
from crm_impl.importers.report import ImportReport, RowError

__all__ = ["EntityMapping", "ImportReport", "Mapping", "RowError", "Source", "open_source"]
