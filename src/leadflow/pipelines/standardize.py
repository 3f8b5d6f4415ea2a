"""AI standardization (seed 004): messy rows become lead fields through the LLM provider.

The model maps each row to firstName, lastName, title, company, email, phone and remarks
(checked: it never adds an email or phone the row lacks). Columns the ordinary header
map cannot place are kept as attributes, as in any import.
"""

from __future__ import annotations

from typing import Any

from ..providers.base import Provider
from ..readers.base import Batch
from .shaping import RecordShaper

LEAD_COLUMNS = ("firstName", "lastName", "title", "company", "email", "phone", "remarks")


def standardize_batch(batch: Batch, provider: Provider, shaper: RecordShaper) -> Batch:
    """The batch with each dict record replaced by the model's lead fields + attributes."""
    positions = [i for i, (_, record) in enumerate(batch) if isinstance(record, dict)]
    if not positions:
        return batch
    answers = provider.enrich_batch([batch[i][1] for i in positions])
    standardized = list(batch)
    for i, answer in zip(positions, answers, strict=True):
        index, record = batch[i]
        _, attributes = shaper.shape(record)
        fields: dict[str, Any] = {k: answer[k] for k in LEAD_COLUMNS if answer.get(k)}
        standardized[i] = (index, {**attributes, **fields})
    return standardized
