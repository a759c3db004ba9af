# The chiso image for docker-compose: Airflow 3.3 with chiso and its pinned stack installed.
FROM apache/airflow:3.3.2-python3.11
USER root
COPY --chown=airflow:root . /opt/chiso
USER airflow
RUN pip install --no-cache-dir -r /opt/chiso/requirements.lock \
 && pip install --no-cache-dir --no-deps -e /opt/chiso
ENV CHISO_HOME=/opt/chiso
