"""Staff of the portal: accounts, logins with TOTP, invitations and resets, and the audit log."""
