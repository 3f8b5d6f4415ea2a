"""AI standardization (seed 004): messy rows become lead fields through the LLM provider.

Rows with columns the ordinary header map cannot place go to the model, which maps each
to firstName, lastName, title, company, email, phone and remarks (checked: it never adds
an email or phone the row lacks); the unplaced columns are also kept as attributes.
"""

from __future__ import annotations

from typing import Any

from ..domain.headers import NAME_PART_FIELDS
from ..providers.base import Provider
from ..readers.base import Batch
from .shaping import RecordShaper

LEAD_COLUMNS = ("firstName", "lastName", "title", "company", "email", "phone", "remarks")


def standardize_batch(batch: Batch, provider: Provider, shaper: RecordShaper) -> Batch:
    """The batch with each record the header map cannot fully place replaced by the
    model's lead fields (plus its unplaced columns as attributes). Records whose every
    column maps to a lead field need no model and are left as they are."""
    positions = [
        i
        for i, (_, record) in enumerate(batch)
        if isinstance(record, dict)
        and any(name not in NAME_PART_FIELDS for _, name in shaper.plan(tuple(record))[1])
    ]
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
