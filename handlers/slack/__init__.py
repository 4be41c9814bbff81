"""The Slack edge: a Bolt app for triage, and the worker that delivers Slack outbox rows."""
