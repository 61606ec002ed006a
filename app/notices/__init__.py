"""Printed payment notices (pagoPA's avviso): one page per obligation with the amount,
due date, QR Platba with the obligation's variable symbol and a QR of its pay link."""
