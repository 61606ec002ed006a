"""Gateway accounts: each municipality's merchant accounts at the payment gateways.

``kinds.py`` says which settings each gateway takes (and which are secret); ``crypto.py``
encrypts the secret ones with MultiFernet keys from the environment
(``SECRET_ENCRYPTION_KEYS``); ``accounts.py`` creates, edits, deactivates and tests
accounts and turns one into the plain settings an adapter is built from."""
