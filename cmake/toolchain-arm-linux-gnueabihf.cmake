# armhf (32-bit ARMv7 with hardware float: Raspberry Pi OS 32-bit, Pi 2 and up): Debian's
# g++-arm-linux-gnueabihf.
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm-linux-gnueabihf.cmake ...  (packaging/dev.sh release armhf)
set(KITE_TRIPLET arm-linux-gnueabihf)
set(KITE_DEB_ARCH armhf)
set(KITE_QEMU qemu-arm-static)
set(CMAKE_SYSTEM_PROCESSOR arm)
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
