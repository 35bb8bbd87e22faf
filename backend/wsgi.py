"""Entry point for gunicorn: `gunicorn backend.wsgi:app`."""

from backend.app import create_app
from backend.gc_tuning import tune_for_serving

app = create_app()
tune_for_serving()  # each worker imports this module: its own start-up objects frozen
