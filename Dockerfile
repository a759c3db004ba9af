# The chiso image for docker-compose: Airflow 3.3 with chiso and its pinned stack installed.
# .dockerignore keeps local state, submissions and secrets out of the build context.
FROM apache/airflow:3.3.2-python3.11
USER root
COPY --chown=airflow:root . /opt/chiso
# Mount points of the state and reports volumes, writable by the airflow user (group root).
RUN mkdir -p /opt/chiso/.chiso /opt/chiso/reports /opt/chiso/submissions \
 && chown -R airflow:root /opt/chiso/.chiso /opt/chiso/reports \
 && chmod -R g+rwX /opt/chiso/.chiso /opt/chiso/reports
USER airflow
RUN pip install --no-cache-dir -r /opt/chiso/requirements.lock \
 && pip install --no-cache-dir --no-deps -e /opt/chiso
ENV CHISO_HOME=/opt/chiso
