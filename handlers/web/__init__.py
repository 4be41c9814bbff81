"""The requester's web front: download links and the status page (docs/web.md)."""
