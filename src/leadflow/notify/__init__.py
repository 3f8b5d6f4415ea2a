"""Notifications (seed 002): Slack first, e-mail when Slack fails, the DLQ when both do."""
