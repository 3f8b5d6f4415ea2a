"""leadflow: CRM data processing.

Validate, normalize, de-duplicate, enrich, store, notify and export leads.
"""

__version__ = "0.1.0"
