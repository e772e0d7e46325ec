"""crm-impl: run a CRM rollout and the live sales pipeline in one place."""

__version__ = "0.1.0"
