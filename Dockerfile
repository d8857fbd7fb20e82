# One image for every part of the service: `hpo study create`, `hpo worker`, `hpo dashboard`.
#
#   docker build -t hpo .
#   docker run --rm hpo --help
#
# torch from PyPI is the CUDA build on Linux x86_64: it uses the GPUs the container is given
# (docker run --gpus all, or compose's device reservation) and falls back to the CPU without them.
# It makes the image about 6.8 GB. For CPU-only hosts, build the CPU variant instead (torch from
# PyTorch's CPU wheel index, without the 4+ GB of CUDA libraries; see docs/distributed.md):
#
#   docker build --build-arg TORCH_VARIANT=cpu -t hpo:cpu .
#   docker compose build --build-arg TORCH_VARIANT=cpu
FROM python:3.11-slim-bookworm

ENV TZ=UTC \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HPO_DATA_DIR=/var/lib/hpo/data \
    HPO_ARTIFACTS=/var/lib/hpo/artifacts

# Fashion-MNIST from Debian, so the `fashion-mnist` data set works without internet access.
RUN apt-get update \
    && apt-get install -y --no-install-recommends dataset-fashion-mnist \
    && rm -rf /var/lib/apt/lists/*

# The biggest layer (several GB) changes least: install it first, on its own.
# TORCH_VARIANT=cuda (the default): torch and torchvision from PyPI, the CUDA build.
# TORCH_VARIANT=cpu: the "+cpu" builds from TORCH_CPU_INDEX (PyTorch's CPU wheel index; their
# dependencies may come from PyPI too), pinned with their local version so that no other index
# can substitute the CUDA build, then checked. The later layers keep this torch: it satisfies
# pyproject.toml's requirement.
ARG TORCH_VERSION=2.14.1
ARG TORCHVISION_VERSION=0.29.1
ARG TORCH_VARIANT=cuda
ARG TORCH_CPU_INDEX=https://download.pytorch.org/whl/cpu
RUN case "$TORCH_VARIANT" in \
      cuda) pip install "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}" ;; \
      cpu) pip install --extra-index-url "$TORCH_CPU_INDEX" \
             "torch==${TORCH_VERSION}+cpu" "torchvision==${TORCHVISION_VERSION}+cpu" \
           && python -c 'import torch, torchvision; assert torch.version.cuda is None, torch.__version__' ;; \
      *) echo "TORCH_VARIANT must be cuda or cpu, not '$TORCH_VARIANT'" >&2; exit 2 ;; \
    esac

# The rest of the dependencies, read from pyproject.toml alone, so editing the source does not
# invalidate this layer. The extras the documented commands need: `serve` (gunicorn for the
# dashboard), `s3` (boto3), `onnx` (`hpo export --onnx`) and `report` (`hpo report`; without a
# Chromium in the image its dashboard screenshot is skipped, with a note in the report).
ARG EXTRAS="serve s3 onnx report"
WORKDIR /opt/hpo
COPY pyproject.toml ./
RUN python -c 'import sys, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
x = p.get("optional-dependencies", {}); print("\n".join(p["dependencies"] + [d for e in sys.argv[1:] for d in x[e]]))' \
      $EXTRAS > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The source last; --no-deps because everything is already installed above.
COPY hpo ./hpo
COPY search_spaces ./search_spaces
RUN pip install --no-deps . && rm -rf build

# A non-root user owning the folders that compose and Kubernetes mount volumes on (a new named
# volume takes over the ownership of the folder it is mounted on).
RUN useradd --create-home --uid 10001 --user-group hpo \
    && mkdir -p /var/lib/hpo/data /var/lib/hpo/artifacts \
    && chown -R hpo:hpo /var/lib/hpo
USER hpo
WORKDIR /var/lib/hpo

ENTRYPOINT ["hpo"]
CMD ["--help"]
