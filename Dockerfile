# syntax=docker/dockerfile:1

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: full dependency tree (TypeScript is a devDependency) -------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# Install first (cached until the lockfile changes). --ignore-scripts skips
# `prepare`, which would try to compile before the sources are copied in.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies + compiled output only -----------------
FROM ${NODE_IMAGE} AS runtime

# tini as PID 1: forwards SIGTERM/SIGINT to node and reaps zombies.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000

WORKDIR /app

COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc, which is not installed here.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

COPY --from=build /app/dist ./dist
COPY openapi.yaml LICENSE ./

# Files stay root-owned (read-only for the service); the process is unprivileged.
USER node

EXPOSE 3000

# Readiness, not liveness: a container still preloading datasets (or shutting down) answers /healthz
# but cannot take work, so it must not report healthy. The start period covers a preload of a few GB;
# a success ends it early. No curl in the image: use Node's built-in fetch.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

ENTRYPOINT ["/usr/bin/tini", "--"]
# Not `npm start`: npm does not forward signals, so graceful shutdown would be skipped.
CMD ["node", "dist/server.js"]
