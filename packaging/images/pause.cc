// kite's pause program: process 1 of every pod sandbox. It holds the pod's namespaces open while
// the pod's containers come and go, reaps any zombie that ends up parented to it (a container
// sharing the pod's PID namespace), and exits 0 on SIGINT or SIGTERM, which is how the runtime
// stops a sandbox. Built static, so the image is this one file and nothing else.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace {

volatile sig_atomic_t g_stop = 0;

void OnStop(int) { g_stop = 1; }

void OnChild(int) {
  // Reap every child that ended; errno is preserved for the interrupted pause().
  const int saved = errno;
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  errno = saved;
}

bool Handle(int sig, void (*fn)(int), int flags) {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, nullptr) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "-v") == 0) {
    static const char kVersion[] = "kite-pause 3.9\n";
    return write(1, kVersion, sizeof kVersion - 1) < 0 ? 1 : 0;
  }
  if (getpid() != 1) {
    static const char kWarn[] = "kite-pause: not process 1 of its namespace; zombies elsewhere are not reaped\n";
    if (write(2, kWarn, sizeof kWarn - 1) < 0) {
    }
  }
  if (!Handle(SIGINT, OnStop, 0) || !Handle(SIGTERM, OnStop, 0) || !Handle(SIGCHLD, OnChild, SA_NOCLDSTOP | SA_RESTART)) {
    return 1;
  }
  while (!g_stop) pause();
  return 0;
}
