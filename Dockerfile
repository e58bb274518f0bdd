# A Gradescope autograder image ("Manual Docker configuration" on the autograder page).
#   docker build --build-arg RUBRIC=rubrics/hw2.yaml \
#                --build-arg TORCH_INDEX=<PyTorch's CPU wheel index URL> -t you/course-hw2 .
# It holds exactly what the upload zip holds (`grader autograder RUBRIC -o autograder.zip`),
# installed by the same setup.sh; see "Deploying to Gradescope" in README.md.
FROM gradescope/autograder-base:ubuntu-22.04

ARG RUBRIC=rubrics/hw2.yaml
ARG TORCH_INDEX=""
ENV GRADER_VENV=/opt/grader-venv

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/*

COPY . /tmp/grader-repo

# Install the grader once to build the autograder tree, then let setup.sh install it for real
# (the dependencies are already there) exactly as it does for the upload zip.
RUN python3 -m venv "$GRADER_VENV" \
    && "$GRADER_VENV/bin/pip" install --no-cache-dir ${TORCH_INDEX:+--extra-index-url "$TORCH_INDEX"} "/tmp/grader-repo[torch]" \
    && "$GRADER_VENV/bin/grader" autograder "/tmp/grader-repo/$RUBRIC" --unpacked /autograder/source ${TORCH_INDEX:+--torch-index "$TORCH_INDEX"} \
    && rm -rf /tmp/grader-repo \
    && /autograder/source/setup.sh \
    && ln -s /autograder/source/run_autograder /autograder/run_autograder
