"""Alerts: rules that watch volume, spend and health, a state machine per rule and subject, and delivery to the
log, webhooks, Slack and e-mail (docs/alerts.md)."""
