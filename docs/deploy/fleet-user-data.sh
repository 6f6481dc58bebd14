#!/bin/bash
# User data of the fleet's EC2 launch template (Amazon Linux 2023, x86_64 or arm64): installs
# Node.js 24 and batchgrid, then runs one fleet worker as a systemd service. See docs/aws.md.
# The instance profile needs docs/deploy/iam-fleet-worker.json, and IMDSv2 must be reachable
# (launch template: HttpTokens=required, HttpPutResponseHopLimit=1 is enough here).
set -euo pipefail

# --- Per installation -------------------------------------------------------------------------
REGION=us-east-1
BUCKET=my-batchgrid-bucket                                   # BATCHGRID_BUCKET
ARTIFACT=s3://my-artifacts/batchgrid/batchgrid-0.1.0.tgz     # built as docs/aws.md says
ASG_NAME=batchgrid-fleet-default                             # this launch template's Auto Scaling group
LIFECYCLE_HOOK=batchgrid-drain                               # its EC2_INSTANCE_TERMINATING hook
FLEET=default                                                # the pipelines' `fleet:`
QUEUE_PREFIX=bg                                              # BATCHGRID_QUEUE_PREFIX, same on every process
CONCURRENCY=4                                                # parts at once on this instance
GRACE_MS=120000                                              # drain time on scale-in (< the hook's heartbeat timeout)
SPOT=false                                                   # true on spot instances: watch interruption notices (--spot)
# ----------------------------------------------------------------------------------------------

dnf install -y nodejs24 tar gzip
useradd --system --create-home --home-dir /var/lib/batchgrid --shell /sbin/nologin batchgrid || true
install -d -o batchgrid -g batchgrid -m 0700 /var/lib/batchgrid/tmp
install -d -m 0755 /opt/batchgrid /etc/batchgrid
aws s3 cp --region "$REGION" "$ARTIFACT" /tmp/batchgrid.tgz
tar -xzf /tmp/batchgrid.tgz -C /opt/batchgrid
rm -f /tmp/batchgrid.tgz

# The instance id through IMDSv2: the worker reports it in its events and uses it for the
# scale-in protection and lifecycle calls of its own instance.
TOKEN=$(curl -sSf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
INSTANCE_ID=$(curl -sSf -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)

SPOT_FLAG=
if [ "$SPOT" = true ]; then SPOT_FLAG=--spot; fi

# Only S3 and SQS settings: the fleet has no database and no Temporal access.
cat > /etc/batchgrid/fleet-worker.env <<ENV
BATCHGRID_REAL_AWS=1
AWS_REGION=$REGION
BATCHGRID_BUCKET=$BUCKET
BATCHGRID_QUEUE_PREFIX=$QUEUE_PREFIX
BATCHGRID_INSTANCE_ID=$INSTANCE_ID
BATCHGRID_ASG_NAME=$ASG_NAME
BATCHGRID_ASG_LIFECYCLE_HOOK=$LIFECYCLE_HOOK
LOG_LEVEL=info
TMPDIR=/var/lib/batchgrid/tmp
NODE_ENV=production
ENV

cat > /etc/systemd/system/batchgrid-fleet-worker.service <<UNIT
[Unit]
Description=batchgrid fleet worker (fleet $FLEET)
Wants=network-online.target
After=network-online.target

[Service]
User=batchgrid
Group=batchgrid
EnvironmentFile=/etc/batchgrid/fleet-worker.env
WorkingDirectory=/var/lib/batchgrid
ExecStart=/usr/bin/node-24 /opt/batchgrid/dist/manager/cli/main.js fleet-worker --fleet $FLEET --concurrency $CONCURRENCY --grace-ms $GRACE_MS $SPOT_FLAG
Restart=on-failure
RestartSec=5
# SIGTERM goes to the worker alone: it drains (finishes or hands back its parts) and stops the
# process groups of its exec commands itself. Whatever is left gets SIGKILL after TimeoutStopSec,
# which must exceed the grace period plus the worker's final flush (10 s).
KillMode=mixed
TimeoutStopSec=$(( GRACE_MS / 1000 + 60 ))
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable --now batchgrid-fleet-worker.service
