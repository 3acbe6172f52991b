"""The payments domain: customers now; intents, refunds and methods as they land."""
