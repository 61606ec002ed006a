"""Obligations ("předpisy"): payer lists — reading and parsing them, storing them in bulk, the import job,
the payer's lookup with signed tokens, the staff's lists, and crediting payments to them."""
