// Stop signals for long-running programs (kite-server, kite-hollow). SIGTERM and SIGINT are
// blocked in the calling thread, and so in every thread it starts afterwards, and received only
// by WaitForStopSignal: shutdown then runs as ordinary code on an ordinary thread, with no
// async-signal-safety rules to obey. SIGPIPE is ignored: a peer that went away is an error on
// its socket, not the end of the process.
#pragma once

namespace kite {

// Call first in main, before any thread starts.
void BlockStopSignals();
// Blocks until SIGTERM or SIGINT arrives; returns its number. (To release a thread waiting here
// for another reason, send it SIGTERM with pthread_kill.)
int WaitForStopSignal();

}  // namespace kite
