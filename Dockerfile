# The release image: Python, git and promoter with the kubectl (kustomize built in) and Helm its
# Python dependencies bring; nothing else. Built by .github/workflows/release.yml from the wheel in
# dist/, with the same pins as the GitHub Action (action/constraints.txt).
#
#   docker run --rm -v "$PWD:/work" ghcr.io/OWNER/promoter:0.1.0 check --all
#
# As a GitLab job image, reset the entrypoint (image: {name: …, entrypoint: [""]}) and set
# PROMOTER_SOURCE to "" so the template uses the promoter inside. It runs as root, as CI job
# images usually do: the runner's checkout must be writable for the reports.
FROM python:3.13-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*

COPY action/constraints.txt /tmp/constraints.txt
COPY dist/ /tmp/dist/
RUN python -m pip install --no-cache-dir --disable-pip-version-check --constraint /tmp/constraints.txt /tmp/dist/*.whl \
 && rm -rf /tmp/dist /tmp/constraints.txt \
 && promoter --version \
 && git --version

# The image runs as root on a checkout mounted from the host (owned by the user): git would refuse it
# as "dubious ownership". The image is the job's own tool; the folder it is given is the one to read.
RUN git config --system --add safe.directory '*'

WORKDIR /work
ENTRYPOINT ["promoter"]
CMD ["--help"]
