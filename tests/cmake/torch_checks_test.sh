#!/usr/bin/env bash
# cmake/torch.cmake's configure-time checks, on stand-in LibTorch packages made here: a
# libc10 built with the pre-C++11 ABI, and a CUDA LibTorch whose libc10_cuda needs
# libcudart.so.99. Each configure must stop with its one line; a C++11-ABI CPU stand-in
# passes the checks (the configure then goes on to the other dependencies).
#   torch_checks_test.sh SOURCE_DIR WORK_DIR [NVCC]
set -euo pipefail
src=$1 work=$2 nvcc=${3:-}
rm -rf "$work" && mkdir -p "$work"
cd "$work"

make_torch() {  # dir abi [cudart-major]
  local dir=$1 abi=$2 cuda=${3:-}
  mkdir -p "$dir/lib" "$dir/share/cmake/Torch"
  printf '#include <string>\nnamespace c10 { std::string name(const std::string& s) { return s; } }\n' >c10.cpp
  g++ -shared -fPIC -D_GLIBCXX_USE_CXX11_ABI="$abi" c10.cpp -o "$dir/lib/libc10.so"
  local cuda_lines=""
  if [ -n "$cuda" ]; then
    echo 'int cudart_stub(){return 0;}' >cudart.c
    gcc -shared -fPIC -Wl,-soname,libcudart.so."$cuda" cudart.c -o "$dir/lib/libcudart.so.$cuda"
    echo 'int cudart_stub(void); int c10_cuda(void){return cudart_stub();}' >c10_cuda.c
    gcc -shared -fPIC c10_cuda.c -o "$dir/lib/libc10_cuda.so" -Wl,--no-as-needed "$dir/lib/libcudart.so.$cuda"
    cuda_lines="set(C10_CUDA_LIBRARY \"\${TORCH_INSTALL_PREFIX}/lib/libc10_cuda.so\")"
  fi
  cat >"$dir/share/cmake/Torch/TorchConfig.cmake" <<CFG
get_filename_component(TORCH_INSTALL_PREFIX "\${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
find_library(c10_LIBRARY c10 PATHS "\${TORCH_INSTALL_PREFIX}/lib")  # as the real one: a cache entry wins
$cuda_lines
if(NOT TARGET torch)
  add_library(torch INTERFACE IMPORTED)
endif()
set(TORCH_LIBRARIES torch)
set(TORCH_FOUND TRUE)
CFG
  echo 'set(PACKAGE_VERSION "9.9.0")
set(PACKAGE_VERSION_COMPATIBLE TRUE)' >"$dir/share/cmake/Torch/TorchConfigVersion.cmake"
}

expect() {  # name, expected text, cmake args...
  local name=$1 want=$2
  shift 2
  local rc=0
  cmake -S "$src" -B "build-$name" "$@" >"$name.log" 2>&1 || rc=$?
  if [ -z "$want" ]; then
    if grep -q "tailedcore: LibTorch 9.9.0 .*C++11 ABI" "$name.log"; then echo "ok   $name"; return; fi
    echo "FAIL $name: expected the checks to pass"; cat "$name.log"; exit 1
  fi
  if [ $rc -ne 0 ] && grep -q -- "$want" "$name.log"; then echo "ok   $name: $(grep -m1 -- "$want" "$name.log" | sed 's/^ *//')"; return; fi
  echo "FAIL $name: expected a stop with '$want' (exit $rc)"; cat "$name.log"; exit 1
}

make_torch "$work/old-abi" 0
expect old_abi "uses the pre-C++11 ABI (_GLIBCXX_USE_CXX11_ABI=0); expected the C++11 ABI" \
  -DCMAKE_PREFIX_PATH="$work/old-abi" -DTAILEDCORE_WITH_CUDA=OFF
make_torch "$work/cpu" 1
expect cxx11_cpu "" -DCMAKE_PREFIX_PATH="$work/cpu" -DTAILEDCORE_WITH_CUDA=OFF
if [ -n "$nvcc" ]; then
  make_torch "$work/cuda99" 1 99
  expect cuda_major "is built with CUDA 99 (libcudart.so.99) but the CUDA toolkit is" \
    -DCMAKE_PREFIX_PATH="$work/cuda99" -DTAILEDCORE_WITH_CUDA=OFF -DCMAKE_CUDA_COMPILER="$nvcc"
else
  echo "skip cuda_major: no nvcc"
fi
# A build folder configured against one LibTorch, then pointed at another.
expect stale_cache "(another LibTorch); expected one under" -DTorch_DIR="$work/cpu/share/cmake/Torch" \
  -Dc10_LIBRARY="$work/old-abi/lib/libc10.so" -DTAILEDCORE_WITH_CUDA=OFF
echo "torch checks: all passed"
