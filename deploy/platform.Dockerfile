# The platform's image for deploy/compose.yaml, built from the repository root:
#   docker build -f deploy/platform.Dockerfile -t city-telemetry .
# The full node:20 image, not -slim: it has the compiler better-sqlite3 falls back to when no prebuilt
# binary fits the machine.
# The operations console is built in a stage of its own, with the development tools (Vite); only its
# static files go into the image.
FROM node:20 AS console
WORKDIR /build
COPY package.json package-lock.json ./
COPY flows/node-red/package.json ./flows/node-red/
RUN npm ci --workspaces=false
COPY console ./console
RUN npm run build:console

FROM node:20

ENV NODE_ENV=production
WORKDIR /opt/city-telemetry

# Dependencies first, exactly as locked, so a code change does not reinstall them. tsx, which runs the
# TypeScript sources, is a runtime dependency; the development tools are left out, and so is Node-RED:
# it belongs to the Node-RED process (the flows/node-red workspace), which this image does not run.
COPY package.json package-lock.json ./
COPY flows/node-red/package.json ./flows/node-red/
RUN npm ci --omit=dev --workspaces=false && npm cache clean --force

# The components the platform runs, one COPY each (a COPY of several folders would merge their contents).
# Tests and the test kits stay out (platform.Dockerfile.dockerignore).
COPY tsconfig.json ./
COPY errors ./errors
COPY cli ./cli
COPY measurements ./measurements
COPY sqlite ./sqlite
COPY postgres ./postgres
COPY devices ./devices
COPY influx ./influx
COPY aqi ./aqi
COPY ingest ./ingest
COPY alerts ./alerts
COPY rules ./rules
COPY flows ./flows
COPY notify ./notify
COPY commands ./commands
COPY broker ./broker
COPY api ./api
COPY dashboards ./dashboards
COPY simulators ./simulators
COPY platform ./platform
COPY --from=console /build/console/dist ./console/dist

# Spool, registry, alert state and dead letters; a fresh named volume takes this folder's owner.
RUN mkdir -p /var/lib/city-telemetry && chown node:node /var/lib/city-telemetry
ENV CITY_DATA_DIR=/var/lib/city-telemetry
USER node

# MQTT, HTTP API.
EXPOSE 1883 8080
# Exactly what `npm start` runs (package.json), without npm in between: SIGTERM reaches the platform
# itself, which closes its listeners and writes the spool out to InfluxDB before it exits.
CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "platform/main.ts"]
