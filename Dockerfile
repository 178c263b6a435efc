# RingSight UI and CLI in one image. Python 3.11 with the embedded FalkorDB
# wheel; in docker-compose it is pointed at the neo4j service instead.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    RINGSIGHT_DATA_DIR=/data
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk libgomp1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ringsight ./ringsight
RUN pip install .
RUN useradd --create-home ringsight && mkdir -p /data && chown ringsight /data
USER ringsight
VOLUME ["/data"]
EXPOSE 8050
ENTRYPOINT ["ringsight"]
# `ringsight ui` serves through waitress (a production WSGI server), not Flask's development server
CMD ["ui", "--host", "0.0.0.0", "--port", "8050"]
