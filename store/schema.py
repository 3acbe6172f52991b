"""Every model module, imported once, so ``Base.metadata`` describes the whole schema.

Alembic's environment and the schema test import this. A new area's models live in
their own module (``store/<area>_models.py``) and add one import line here.
"""

from store import (
    bank_models,  # noqa: F401  (linked bank accounts)
    ledger_models,  # noqa: F401  (wallets, credits and the ledger)
    models,  # noqa: F401  (registers the foundation's tables)
    payment_models,  # noqa: F401  (payments: intents, refunds, methods, …)
    webhook_models,  # noqa: F401  (the webhook relay's tables)
)
from store.models import Base

metadata = Base.metadata
