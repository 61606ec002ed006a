"""Citizens: their accounts (profile, claimed customer IDs, GDPR export and erasure) and the
consent to the terms a payer gives (versioned texts, records). Login itself is app/identity."""
