"""Payments: the state machine and everything that moves a payment through it —
creating and starting, card confirmation, the gateway's truth, notifications, refunds,
expiry and polling, the admin's search and exports, and their background jobs."""
