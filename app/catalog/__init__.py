"""The catalogue: municipalities and the services (fees) they offer — the public cache the citizen
pages read, and the rules for editing a service's settings."""
