# arm64 (Raspberry Pi 3/4/5 with a 64-bit OS): Debian's g++-aarch64-linux-gnu.
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake ...  (packaging/dev.sh release arm64)
set(KITE_TRIPLET aarch64-linux-gnu)
set(KITE_DEB_ARCH arm64)
set(KITE_QEMU qemu-aarch64-static)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
