# armhf (32-bit ARMv7 with hardware float: Raspberry Pi OS 32-bit, Pi 2 and up): Debian's
# g++-arm-linux-gnueabihf.
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm-linux-gnueabihf.cmake ...  (packaging/dev.sh release armhf)
set(KITE_TRIPLET arm-linux-gnueabihf)
set(KITE_DEB_ARCH armhf)
set(KITE_QEMU qemu-arm-static)
set(CMAKE_SYSTEM_PROCESSOR arm)
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
# g++ notes on 32-bit ARM that the way some std::vector iterators are passed changed in GCC 7.1
# (-Wpsabi): an ABI remark about mixing with code built by GCC < 7.1, which a release binary
# never links (every object and static archive comes from g++ 12 builds). Not a defect here.
string(APPEND CMAKE_CXX_FLAGS_INIT " -Wno-psabi")
