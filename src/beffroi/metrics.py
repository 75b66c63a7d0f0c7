"""Prometheus metrics of this process (exposed at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES_IN = Counter(
    "beffroi_ingest_messages_total",
    "Device messages received by the gateway, by channel",
    ["channel"],
    registry=REGISTRY,
)
REJECTED = Counter(
    "beffroi_ingest_rejected_total",
    "Device messages rejected, by reason",
    ["reason"],
    registry=REGISTRY,
)
POINTS = Counter("beffroi_ingest_points_total", "Data points written", registry=REGISTRY)
BATCH_SIZE = Histogram(
    "beffroi_ingest_batch_messages",
    "Messages per written batch",
    buckets=(1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000),
    registry=REGISTRY,
)
WRITE_SECONDS = Histogram(
    "beffroi_ingest_write_seconds",
    "Time to write one batch (one transaction)",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
LAG_SECONDS = Histogram(
    "beffroi_ingest_lag_seconds",
    "From reception by the gateway to durable storage",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
PENDING = Gauge(
    "beffroi_ingest_pending_messages",
    "Messages received and not yet stored",
    registry=REGISTRY,
)
DATABASE_UP = Gauge(
    "beffroi_ingest_database_up", "1 when the last write succeeded", registry=REGISTRY
)
DEVICES_KNOWN = Gauge(
    "beffroi_ingest_devices_known", "Devices in the gateway's directory", registry=REGISTRY
)
COMMANDS_SENT = Counter(
    "beffroi_commands_sent_total",
    "Commands published to devices (retries included)",
    registry=REGISTRY,
)
COMMAND_REPLIES_IGNORED = Counter(
    "beffroi_command_replies_ignored_total",
    "Duplicate or late replies to commands already past that state",
    registry=REGISTRY,
)
COMMANDS_CLOSED = Counter(
    "beffroi_commands_closed_total",
    "Commands closed by the hub rather than the device, by outcome",
    ["outcome"],
    registry=REGISTRY,
)
FOLLOWUP_FAILURES = Counter(
    "beffroi_followup_failures_total",
    "Follow-ups of stored messages abandoned after a failure (the messages stay stored), "
    "by stage: an asset's command replies, verification, rules or alarms, or a hub event",
    ["stage"],
    registry=REGISTRY,
)
SCHEDULER_RUNS = Counter(
    "beffroi_scheduler_runs_total",
    "Runs of scheduled jobs by this instance, by job and outcome (succeeded, failed)",
    ["job", "outcome"],
    registry=REGISTRY,
)
SCHEDULER_MISFIRES = Counter(
    "beffroi_scheduler_misfires_total",
    "Due times of scheduled jobs skipped because they were reached past the job's grace",
    ["job"],
    registry=REGISTRY,
)
SCHEDULER_DURATION = Histogram(
    "beffroi_scheduler_run_seconds",
    "Time a scheduled job's run took",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600),
    registry=REGISTRY,
)
SCHEDULER_LAG = Histogram(
    "beffroi_scheduler_lag_seconds",
    "From a scheduled job's due time to the start of its run (jitter included)",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
    registry=REGISTRY,
)
SCHEDULER_JOBS_HELD = Gauge(
    "beffroi_scheduler_job_held",
    "1 when this instance holds the job (runs it), 0 when another instance does",
    ["job"],
    registry=REGISTRY,
)

# Bus priority (docs/mobility.md): reads of the GTFS-Realtime feed, by outcome
# (ok, unreachable, malformed), and priority requests made to controllers.
MOBILITY_FEED_READS = Counter(
    "beffroi_mobility_feed_reads_total",
    "Reads of the vehicle positions feed, by outcome",
    ["outcome"],
    registry=REGISTRY,
)
MOBILITY_PRIORITY_REQUESTS = Counter(
    "beffroi_mobility_priority_requests_total",
    "Bus priority requests sent to controllers",
    registry=REGISTRY,
)
