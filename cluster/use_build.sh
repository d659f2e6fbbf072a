#!/usr/bin/env bash
# Sourced by the cluster scripts before they start ranks: the binary they run, and which
# build it is, said in the job's log. BIN defaults to the CUDA build of cluster/build_cuda.sh.
# A binary built without CUDA+NCCL, or whose LibTorch sees no GPU, would leave the GPUs the
# job asked for idle: that stops the job, unless ALLOW_CPU_BUILD=1 (a CPU run on purpose).
#
#   source cluster/use_build.sh        # sets BIN; prints "<script>: running BIN: <its --version line>"
BIN=${BIN:-./build-cuda/tailedcore}
_tc_me=$(basename "$0")
if [ ! -x "$BIN" ]; then
  echo "$_tc_me: $BIN does not exist; expected the CUDA build (cluster/build_cuda.sh) or BIN=path/to/tailedcore" >&2
  exit 2
fi
_tc_build=$("$BIN" --version | head -n 1)
echo "$_tc_me: running $BIN: $_tc_build" >&2
if [[ $_tc_build != *"CUDA+NCCL: built"* || $_tc_build == *"CUDA devices: 0)"* ]]; then
  if [ "${ALLOW_CPU_BUILD:-0}" != 1 ]; then
    echo "$_tc_me: $BIN is not a CUDA build that sees a GPU ($_tc_build): the job's GPUs would sit idle;" \
         "expected cluster/build_cuda.sh's build on a GPU node, or ALLOW_CPU_BUILD=1 for a CPU run" >&2
    exit 2
  fi
  echo "$_tc_me: ALLOW_CPU_BUILD=1: running on the CPU" >&2
fi
unset _tc_me _tc_build
