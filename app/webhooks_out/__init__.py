"""Outbound webhooks: a municipality's endpoints receive signed events (payment.paid,
payment.refunded, payment.failed, obligation.paid, …) from the payment transitions,
delivered by jobs with exponential backoff for up to three days. Order is not guaranteed."""
