// An LD_PRELOAD experiment for bench/run_api_bench.sh --preload-nodelay: sets TCP_NODELAY on
// every socket kite-server accepts. kite-server's HTTPS server (base/https_server.cc) does not
// set it, so a response bigger than Beast's 16 KiB flattening limit leaves as two writes (head,
// then body) and the second waits for the client's delayed ACK (about 40 ms on Linux). This
// shows what setting it would change, without touching the server; see bench/RESULTS.md.
// Build: cc -O2 -shared -fPIC -o tcp_nodelay_preload.so tcp_nodelay_preload.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void NoDelay(int fd) {
  if (fd < 0) return;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // fails harmlessly on non-TCP sockets
}

int accept(int s, struct sockaddr* addr, socklen_t* len) {
  static int (*real)(int, struct sockaddr*, socklen_t*);
  if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*))dlsym(RTLD_NEXT, "accept");
  int fd = real(s, addr, len);
  NoDelay(fd);
  return fd;
}

int accept4(int s, struct sockaddr* addr, socklen_t* len, int flags) {
  static int (*real)(int, struct sockaddr*, socklen_t*, int);
  if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*, int))dlsym(RTLD_NEXT, "accept4");
  int fd = real(s, addr, len, flags);
  NoDelay(fd);
  return fd;
}
