"""leadflow: CRM data processing (validate, normalize, de-duplicate, enrich, store, notify, export)."""

__version__ = "0.1.0"
