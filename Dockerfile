# syntax=docker/dockerfile:1
# One image for every batchgrid process; the command picks the role:
#   docker run batchgrid orchestrator | serve | fleet-worker --fleet default | db migrate
# To run `exec` stages with other programs (ffmpeg, gdal, python3), build FROM this image and
# apt-get install them (as root, then back to USER node).

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# The workflow bundle is built once here, so the orchestrator starts without webpack. Tests and the
# benchmark (whose peers need dev dependencies such as BullMQ) stay out of the image.
RUN npm run build \
 && node dist/manager/cli/main.js orchestrator --write-bundle dist/workflow-bundle.js \
 && rm -rf dist/test dist/scripts/bench

FROM node:24-slim
# tini as PID 1: forwards SIGTERM (fleet workers drain on it) and reaps the orphans of `exec`
# commands. ca-certificates: TLS to AWS, RDS and Temporal Cloud.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    BATCHGRID_HOME=/tmp/batchgrid
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional: the image's own Node runs everything, so the Node.js binary that package.json
# brings for development (node-linux-*) stays out.
RUN npm ci --omit=dev --omit=optional && npm cache clean --force
COPY --from=build /app/dist ./dist
# The migrations are read from <package root>/store/migrations (tsc does not copy .sql files).
COPY store/migrations ./store/migrations
COPY examples ./examples
USER node
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/manager/cli/main.js"]
CMD ["--help"]
