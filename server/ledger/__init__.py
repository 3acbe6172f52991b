"""The ledger domain: wallets and credits, every move a balanced ledger transfer."""
