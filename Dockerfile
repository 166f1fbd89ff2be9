# syntax=docker/dockerfile:1

# suno-gateway image. Build the gateway with `docker build -t suno-gateway:dev .` (the last
# stage, runtime, is the default) and the upstream emulator for demos with
# `docker build --target emulator -t suno-gateway-emulator:dev .`.
#
# Node 20 is the version the project's tests run on (see "engines" in package.json). Change
# NODE_IMAGE to move to another Node line, for example node:22-bookworm-slim.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: every dependency, for building and for the emulator
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# ---- build: compiles src/ to dist/
FROM deps AS build
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build

# ---- prod-deps: runtime dependencies only, installed apart so no dev package leaks in
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- emulator: the fake Suno upstream, TypeScript run through @swc-node/register, which is a
# dev dependency. For demos and tests only, never for production traffic.
FROM deps AS emulator
ENV NODE_ENV=development \
    EMULATOR_HOST=0.0.0.0 \
    EMULATOR_PORT=3100
COPY tsconfig.json .swcrc ./
COPY test/emulator ./test/emulator
USER node
EXPOSE 3100
CMD ["node", "-r", "@swc-node/register", "test/emulator/main.ts"]

# ---- runtime: the gateway (default target)
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Files stay owned by root, so the process cannot rewrite its own code.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
# Node runs as PID 1 in the exec form below, so SIGTERM reaches it directly: the gateway turns
# readiness off, drains (SHUTDOWN_DRAIN_MS), waits for long polls (SHUTDOWN_WAIT_CAP_MS) and
# exits. No init process is needed, because the gateway starts no child processes whose
# zombies PID 1 would have to reap. Kubernetes probes /health/*, so the image declares no
# HEALTHCHECK, and docker-compose.yml defines its own.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
