"""Asynchronous jobs: uploads split into batches on the queue, workers, status documents."""
