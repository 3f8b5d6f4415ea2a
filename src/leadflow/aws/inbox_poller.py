"""The inbox loop of `leadflow serve` and `leadflow worker` on the aws backend.

On AWS the bucket notifies the inbox queue (`{prefix}-inbox`) of each object created
under inbox/leads/ or inbox/orders/, and the inbox Lambda consumes it. Run as processes
(against a moto server, or on machines of your own) nothing would; so the supervised
"inbox" loop long-polls that queue and runs each named object with the inbox Lambda's
own per-record code (inbox_objects.run_object). A message is deleted once its objects
ran (processed or rejected); when the store is unavailable it is given back after
RETRY_SECONDS, and after the queue's maxReceiveCount receives SQS moves it to
`{prefix}-inbox-dlq`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any

from ..jobs.inbox import Inbox, InboxPorts, StoreFailures
from ..notify.notifier import Notifier
from .inbox_objects import Opener, object_keys, run_object

log = logging.getLogger("leadflow.aws.inbox")
WAIT_SECONDS = 1  # SQS long poll per step: short, so a stop is seen within a second
RETRY_SECONDS = 10  # a message whose objects failed on the store comes back after this
BATCH = 10  # SQS's largest receive


class InboxQueuePoller:
    """The supervised loop (jobs/supervisor.Loop): each step receives up to BATCH
    notifications and runs their objects."""

    def __init__(
        self,
        ports: InboxPorts,
        open_object: Opener,
        sqs: Any,
        queue_url: str,
        stop: threading.Event,
        notifier: Notifier | None = None,
        failures: StoreFailures | None = None,
    ) -> None:
        self.inbox = Inbox(ports, notifier, failures)
        self.open_object = open_object
        self.sqs = sqs
        self.url = queue_url
        self.stop = stop
        self.claimer = f"sqs-{os.getpid()}"

    def step(self) -> float:
        """One receive and its messages; 0 (the long poll is the wait)."""
        if self.stop.is_set():
            return 0.0
        answer = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=BATCH, WaitTimeSeconds=WAIT_SECONDS
        )
        for message in answer.get("Messages", []):
            receipt = message["ReceiptHandle"]
            try:
                for key in object_keys(message["Body"]):
                    run_object(self.inbox, self.open_object, key, self.claimer)
            except Exception:
                # the store (or S3) is unavailable: give the message back soon, and let
                # the supervisor log it and restart this loop after its backoff
                with contextlib.suppress(Exception):
                    self.sqs.change_message_visibility(
                        QueueUrl=self.url, ReceiptHandle=receipt, VisibilityTimeout=RETRY_SECONDS
                    )
                raise
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=receipt)
        return 0.0
