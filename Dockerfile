# syntax=docker/dockerfile:1
# lambdaline: the `lambdaline` CLI (apps/runner) with every layer, on node:20-slim.
#   docker build -t lambdaline .
#   docker run --rm lambdaline --help
#   docker run --rm -p 8080:8080 lambdaline demo --host 0.0.0.0          # no Kafka needed
#   docker run --rm -p 8080:8080 -v lambdaline-data:/data lambdaline start --brokers my-kafka:9092 --host 0.0.0.0
# docker-compose.yml runs it with Apache Kafka (KRaft) and sample data.

# ---- build: install everything, build the runner and the libraries it uses
FROM node:20-slim AS build
WORKDIR /app
ENV NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=true CI=true
# Manifests first, so `npm ci` is cached until a dependency changes.
COPY package.json package-lock.json nx.json tsconfig.base.json vitest.shared.ts ./
COPY libs/core/package.json libs/core/
COPY libs/generators/package.json libs/generators/
COPY libs/batch-layer/package.json libs/batch-layer/
COPY libs/speed-layer/package.json libs/speed-layer/
COPY libs/serving-layer/package.json libs/serving-layer/
COPY apps/runner/package.json apps/runner/
COPY tools/package.json tools/
RUN npm ci --no-audit --no-fund
COPY libs libs
COPY apps/runner apps/runner
RUN npx nx run runner:build --output-style=stream

# ---- runtime: production dependencies and the built output only
FROM node:20-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY libs/core/package.json libs/core/
COPY libs/generators/package.json libs/generators/
COPY libs/batch-layer/package.json libs/batch-layer/
COPY libs/speed-layer/package.json libs/speed-layer/
COPY libs/serving-layer/package.json libs/serving-layer/
COPY apps/runner/package.json apps/runner/
COPY tools/package.json tools/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/libs/core/dist libs/core/dist
COPY --from=build /app/libs/generators/dist libs/generators/dist
COPY --from=build /app/libs/batch-layer/dist libs/batch-layer/dist
COPY --from=build /app/libs/speed-layer/dist libs/speed-layer/dist
COPY --from=build /app/libs/serving-layer/dist libs/serving-layer/dist
COPY --from=build /app/libs/serving-layer/dashboard libs/serving-layer/dashboard
COPY --from=build /app/apps/runner/dist apps/runner/dist
COPY apps/runner/examples apps/runner/examples
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["node", "/app/apps/runner/dist/cli.js"]
CMD ["start", "--brokers", "kafka:9092", "--dataset", "/data/dataset", "--host", "0.0.0.0", "--port", "8080"]
