"""The tables more than one package reads: the registry's core tables, and the outlet data
that staff, the public and the professional app write (tasks, photos, held uploads, error
reports and feedback).

They live here, at the bottom, so that every library can read them without importing another
library's logic. A table that one package alone reads stays in that package (professional
accounts and their audit log in `accounts`, the bot's memory and WeChat's retries in `bot`,
bearer tokens and rate-limit counters in `core`); `backend.models` gathers every table for
Alembic and the tests.
"""
