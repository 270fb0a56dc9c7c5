// Responder: one request message in, one reply message out (or "forward it", or "drop it"),
// with no sockets and no clock, so every rule of the protocol is unit-tested here:
// - malformed: dropped when no header can be read or it is a response (QR), FORMERR otherwise;
// - opcode other than QUERY: NOTIMP; EDNS version above 0: BADVERS (RFC 6891 6.1.3);
// - names of the cluster zone: answered from the Zone with AA (NXDOMAIN and NODATA carry the
//   SOA in the authority section), zone transfers and non-IN classes REFUSED;
// - other names: forwarded when there is an upstream, else REFUSED;
// - the reply fits the transport: 512 octets over UDP without EDNS, the smaller of the client's
//   and our EDNS payload size with it (then TC set and the records left out, so the client
//   retries over TCP), 65535 over TCP (the Zone keeps every RRset below that).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "addons/dns/message.h"
#include "addons/dns/zone.h"

namespace kite::dns {

enum class Transport { kUdp, kTcp };
enum class Action { kReply, kForward, kDrop };

// The most a UDP reply may carry when the client allows more: 1232 octets avoids IP
// fragmentation on any path (DNS flag day 2020).
constexpr uint16_t kDefaultUdpSize = 1232;

class Responder {
 public:
  Responder(std::shared_ptr<const Zone> zone, bool can_forward, uint16_t udp_size = kDefaultUdpSize)
      : zone_(std::move(zone)), can_forward_(can_forward), udp_size_(udp_size) {}

  void SetZone(std::shared_ptr<const Zone> zone) { zone_ = std::move(zone); }
  const Zone& zone() const { return *zone_; }

  // Handles req[0, len). kReply: `out` holds the reply. kForward: `query()` holds the parsed
  // request, for the forwarder. `out` and the parsed query are reused between calls.
  Action Respond(const uint8_t* req, size_t len, Transport transport, std::string* out);
  const Query& query() const { return query_; }
  // The largest reply this transport and query allow.
  size_t Limit(const Query& q, Transport transport) const;
  uint16_t udp_size() const { return udp_size_; }

  // Appends an OPT (when the query had one) and applies the size limit: a reply larger than
  // `limit` keeps only its header and question, with TC set. `out` holds a complete reply whose
  // header counts are right (without the OPT).
  void Finish(const Query& q, size_t limit, std::string* out) const;

 private:
  std::shared_ptr<const Zone> zone_;
  bool can_forward_;
  uint16_t udp_size_;
  Query query_;
  ZoneAnswer answer_;
};

}  // namespace kite::dns
