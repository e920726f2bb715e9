"""Edition identity, manifests, the published archive, its feed and delivery by email."""
