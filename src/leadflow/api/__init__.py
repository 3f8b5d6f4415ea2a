"""The HTTP API (FastAPI). Thin: routers parse requests and call pipelines and stores."""
