"""The GPU campaign (scripts/gpu_campaign.py): settings, bundle install, device check, the
throughput probe, the run plan and runner, and the returned files."""
