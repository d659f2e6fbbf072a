# LibTorch: finding it, and the two checks that keep a build from mixing ABIs or CUDAs.
# Every LibTorch specific of the build lives here (DESIGN.md "Build").
#
# Found through Torch_DIR or CMAKE_PREFIX_PATH, like any CMake package:
#   Debian's libtorch-dev (1.13, CPU)        found without either
#   a PyPI torch wheel (2.7+, CUDA or CPU)   -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
#   a cxx11-ABI libtorch archive             -DCMAKE_PREFIX_PATH=/path/to/libtorch
#
# Include after TC_NVCC (the nvcc the project found, or empty) and CMAKE_CUDA_ARCHITECTURES
# (ours, or unset) are known. Defines:
#   TC_TORCH_LIBRARIES   what a target links for LibTorch
#   TC_TORCH_VERSION     e.g. 1.13.0, 2.11.0
#   TC_TORCH_CUDA_MAJOR  the CUDA major LibTorch was built with (its libcudart soname); empty: CPU
#   TC_TORCH_DESCRIPTION one line for the configure log and the build notes
# Stops with one line when
#   - LibTorch uses the pre-C++11 std::string ABI (_GLIBCXX_USE_CXX11_ABI=0: PyPI wheels
#     before 2.7, "libtorch-shared-with-deps" archives): Debian's Boost, yaml-cpp, OpenCV
#     and HDF5 C++ libraries use the C++11 ABI, so such a build fails at link time or worse;
#   - a CUDA LibTorch's CUDA major differs from the toolkit's (nvcc): two libcudart majors
#     in one process.

# A stop with one line: the leading space keeps CMake from wrapping the message.
function(tc_torch_fail)
  set(_msg "")
  math(EXPR _last "${ARGC} - 1")
  foreach(_i RANGE ${_last})
    string(APPEND _msg "${ARGV${_i}}")  # each piece whole: ARGN would split at its ';'
  endforeach()
  message(FATAL_ERROR " ${_msg}")
endfunction()

# A CUDA LibTorch's config enables the CUDA language itself (Caffe2's public/cuda.cmake):
# hand it our nvcc so that the toolkit it finds is the one we compile with.
if(TC_NVCC AND NOT CMAKE_CUDA_COMPILER)
  set(CMAKE_CUDA_COMPILER ${TC_NVCC})
endif()
if(TC_NVCC AND NOT CUDA_TOOLKIT_ROOT_DIR)
  get_filename_component(_tc_nvcc_bin ${TC_NVCC} DIRECTORY)
  get_filename_component(CUDA_TOOLKIT_ROOT_DIR ${_tc_nvcc_bin} DIRECTORY)
endif()
# That config also replaces CMAKE_CUDA_ARCHITECTURES by OFF and adds its own -gencode flags
# (its TORCH_CUDA_ARCH_LIST) to CMAKE_CUDA_FLAGS. Our .cu files include no LibTorch header,
# so they need none of its nvcc flags: both are restored after it.
set(_tc_cuda_flags "${CMAKE_CUDA_FLAGS}")
set(_tc_cuda_archs "${CMAKE_CUDA_ARCHITECTURES}")
unset(CMAKE_CUDA_ARCHITECTURES)
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST} AND NOT TORCH_CUDA_ARCH_LIST)
  # Without it, the config probes for a GPU (and warns on a machine without one).
  set(TORCH_CUDA_ARCH_LIST "9.0")
endif()

# TorchConfig.cmake finds libc10 and libtorch with find_library(... PATHS <prefix>/lib), which
# searches the system's folders first: with Debian's libtorch-dev installed, a wheel's build
# would link Debian's libc10. LibTorch's own prefix first on CMAKE_PREFIX_PATH prevents that.
if(Torch_DIR)
  set(_tc_torch_cfg "${Torch_DIR}")
else()
  find_path(_tc_torch_cfg TorchConfig.cmake PATHS ${CMAKE_PREFIX_PATH} ENV CMAKE_PREFIX_PATH
            PATH_SUFFIXES Torch share/cmake/Torch lib/cmake/Torch NO_DEFAULT_PATH)
  set(_tc_torch_cfg_found "${_tc_torch_cfg}")
  unset(_tc_torch_cfg CACHE)
  set(_tc_torch_cfg "${_tc_torch_cfg_found}")
endif()
if(_tc_torch_cfg AND EXISTS "${_tc_torch_cfg}/TorchConfig.cmake")
  get_filename_component(_tc_torch_prefix "${_tc_torch_cfg}/../../.." ABSOLUTE)
  list(PREPEND CMAKE_PREFIX_PATH "${_tc_torch_prefix}")
endif()

find_package(Torch REQUIRED)

# A cache entry from an earlier configure against another LibTorch would still win.
get_filename_component(_tc_own_prefix "${TORCH_INSTALL_PREFIX}" REALPATH)
foreach(_tc_lib c10_LIBRARY C10_CUDA_LIBRARY)
  if(${_tc_lib})
    get_filename_component(_tc_lib_path "${${_tc_lib}}" REALPATH)
    string(FIND "${_tc_lib_path}" "${_tc_own_prefix}/" _tc_at)
    if(NOT _tc_at EQUAL 0)
      tc_torch_fail("LibTorch ${Torch_VERSION} at ${TORCH_INSTALL_PREFIX} but ${_tc_lib}="
        "${${_tc_lib}} (another LibTorch); expected one under ${_tc_own_prefix}: configure in a fresh build folder")
    endif()
  endif()
endforeach()

set(CMAKE_CUDA_FLAGS "${_tc_cuda_flags}")
if(_tc_cuda_archs)
  set(CMAKE_CUDA_ARCHITECTURES ${_tc_cuda_archs})
else()
  unset(CMAKE_CUDA_ARCHITECTURES)
endif()

set(TC_TORCH_VERSION ${Torch_VERSION})
# PyPI's libtorch.so (2.5 to 2.11 at least) exports unversioned copies of libstdc++'s
# std::filesystem (pytorch/pytorch#133437); a binary that finds libtorch.so before
# libstdc++.so.6 calls those, and std::filesystem::remove_all crashed in them (test_features
# against 2.11.0). libstdc++ as the first NEEDED entry makes every lookup find the real ones.
add_library(tc_torch INTERFACE)
target_link_libraries(tc_torch INTERFACE ${TORCH_LIBRARIES})
# A CUDA LibTorch (libc10_cuda found): its caching allocator can be emptied between stages
# (dist::release_cached_cuda_memory); a CPU LibTorch has none.
if(C10_CUDA_LIBRARY)
  target_compile_definitions(tc_torch INTERFACE TC_TORCH_CUDA=1)
endif()
target_link_options(tc_torch INTERFACE "LINKER:--push-state,--no-as-needed,-lstdc++,--pop-state")
set(TC_TORCH_LIBRARIES tc_torch)
set(_tc_torch_where "LibTorch ${TC_TORCH_VERSION} at ${TORCH_INSTALL_PREFIX}")

# --- ABI: the compile flag LibTorch asks for, else the std::string of its exported symbols.
set(_tc_c10 "${c10_LIBRARY}")
if(NOT _tc_c10)
  find_library(_tc_c10 c10 PATHS "${TORCH_INSTALL_PREFIX}/lib" NO_DEFAULT_PATH NO_CACHE)
endif()
set(TC_TORCH_CXX11_ABI "")
if(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=0")
  set(TC_TORCH_CXX11_ABI 0)
elseif(TORCH_CXX_FLAGS MATCHES "_GLIBCXX_USE_CXX11_ABI=1")
  set(TC_TORCH_CXX11_ABI 1)
elseif(_tc_c10 AND EXISTS "${_tc_c10}")
  # libc10 exports functions taking std::string; built with the C++11 ABI their mangled names
  # name std::__cxx11::basic_string.
  file(STRINGS "${_tc_c10}" _tc_abi_hit REGEX "St7__cxx1112basic_string" LIMIT_COUNT 1)
  if(_tc_abi_hit)
    set(TC_TORCH_CXX11_ABI 1)
  else()
    set(TC_TORCH_CXX11_ABI 0)
  endif()
endif()
if(TC_TORCH_CXX11_ABI STREQUAL "0")
  tc_torch_fail("${_tc_torch_where} uses the pre-C++11 ABI (_GLIBCXX_USE_CXX11_ABI=0); "
    "expected the C++11 ABI that Debian's Boost, yaml-cpp and OpenCV use: a PyPI torch >= 2.7 "
    "(torch._C._GLIBCXX_USE_CXX11_ABI is True) or a cxx11-ABI libtorch archive")
endif()

# --- CUDA: the libcudart major libc10_cuda needs, against the toolkit's.
set(TC_TORCH_CUDA_MAJOR "")
set(_tc_c10_cuda "${C10_CUDA_LIBRARY}")
if(_tc_c10_cuda AND EXISTS "${_tc_c10_cuda}")
  # The soname, e.g. libcudart.so.13 (archives bundle a hashed copy: libcudart-1a2b3c4d.so.13).
  file(STRINGS "${_tc_c10_cuda}" _tc_cudart REGEX "^libcudart(-[0-9a-f]+)?\\.so\\.[0-9]+$" LIMIT_COUNT 1)
  if(_tc_cudart MATCHES "\\.so\\.([0-9]+)$")
    set(TC_TORCH_CUDA_MAJOR ${CMAKE_MATCH_1})
  else()
    tc_torch_fail("${_tc_torch_where}: ${_tc_c10_cuda} names no libcudart.so.N; "
      "expected a CUDA LibTorch that links libcudart dynamically")
  endif()
endif()
if(TC_TORCH_CUDA_MAJOR)
  set(_tc_toolkit_version "${CMAKE_CUDA_COMPILER_VERSION}")
  if(NOT _tc_toolkit_version)
    set(_tc_toolkit_version "${CUDAToolkit_VERSION}")
  endif()
  if(NOT _tc_toolkit_version AND CMAKE_CUDA_COMPILER)
    execute_process(COMMAND ${CMAKE_CUDA_COMPILER} --version OUTPUT_VARIABLE _tc_nvcc_out ERROR_QUIET)
    if(_tc_nvcc_out MATCHES "release [0-9.]+, V([0-9.]+)")
      set(_tc_toolkit_version ${CMAKE_MATCH_1})
    endif()
  endif()
  if(NOT _tc_toolkit_version)
    tc_torch_fail("${_tc_torch_where} is built with CUDA ${TC_TORCH_CUDA_MAJOR} (${_tc_cudart}) "
      "but no CUDA toolkit was found; expected nvcc ${TC_TORCH_CUDA_MAJOR}.x on PATH or CMAKE_CUDA_COMPILER")
  endif()
  string(REGEX MATCH "^[0-9]+" _tc_toolkit_major "${_tc_toolkit_version}")
  if(NOT _tc_toolkit_major STREQUAL TC_TORCH_CUDA_MAJOR)
    tc_torch_fail("${_tc_torch_where} is built with CUDA ${TC_TORCH_CUDA_MAJOR} "
      "(${_tc_cudart}) but the CUDA toolkit is ${_tc_toolkit_version} (${CMAKE_CUDA_COMPILER}); "
      "expected the same CUDA major: point CMAKE_CUDA_COMPILER (or PATH) at a CUDA "
      "${TC_TORCH_CUDA_MAJOR}.x nvcc, or use a LibTorch built for CUDA ${_tc_toolkit_major}")
  endif()
  set(TC_TORCH_DESCRIPTION "${_tc_torch_where}, CUDA ${TC_TORCH_CUDA_MAJOR} (toolkit ${_tc_toolkit_version}), C++11 ABI")
else()
  set(TC_TORCH_DESCRIPTION "${_tc_torch_where}, CPU, C++11 ABI")
endif()
message(STATUS "tailedcore: ${TC_TORCH_DESCRIPTION}")
