"""Gateway interfaces and adapters: the sandbox simulator, Stripe, Plaid, Square, …"""
