# syntax=docker/dockerfile:1
# The Zoho CRM source as an Airbyte connector image, for a self-hosted Airbyte:
#   docker build -t source-zoho-crm:dev .
# then Settings > Sources > "+ New connector" > "Add a new Docker connector" with that repository and tag
# (or push it to your own registry first). Never tag it airbyte/source-zoho-crm: that is Docker Hub's
# official image, which an Airbyte that pulls images would fetch instead of this build.
#
# Airbyte's Python connector base image, 4.x: Python 3.11, user `airbyte` (uid 1000), UTC.
# Pinned by digest, as Airbyte pins it in its connectors' metadata.yaml (connectorBuildOptions.baseImage).
FROM docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

WORKDIR /airbyte/integration_code

# The build context is what `pip install .` needs and nothing else: .dockerignore lets in only
# pyproject.toml, README.md, constraints.txt (the tested versions) and the source_zoho_crm package.
COPY . ./
RUN pip install --no-cache-dir -c constraints.txt . \
    && source-zoho-crm spec > /dev/null

LABEL io.airbyte.name=airbyte/source-zoho-crm
LABEL io.airbyte.version=1.0.0

# The platform runs the connector as a non-root user.
USER airbyte

ENV AIRBYTE_ENTRYPOINT="source-zoho-crm"
ENTRYPOINT ["source-zoho-crm"]
