#pragma once
// A TCP fault proxy for resilience tests. A test places it between a service and one of its dependencies
// (PostgreSQL, Redis, a partner home...) by pointing the service's configured port at port(), and then
// degrades the path at run time: latency, a bandwidth cap, a black hole, resets, closes after N bytes, or a
// silent partition (half_open).
//
//   FaultProxy proxy("127.0.0.1", pg.port());
//   proxy.start();
//   ... configure the service with proxy.port() ...
//   proxy.latency(200ms);   // every chunk, both directions, is held 200 ms
//   proxy.blackhole();      // new and existing connections: bytes are read and dropped, nothing answers
//   proxy.pass();           // new connections work again
//
// Threads: a listener thread plus one thread per proxied connection (client socket and its upstream
// socket), all on non-blocking POSIX sockets and poll(); every thread also polls an eventfd, so a mode
// change or stop() reaches it at once. Nothing sleeps except the deliberate latency / bandwidth waits.
//
// Connections: the upstream connection is opened when a client connection is accepted (later, for one
// accepted during half_open()). If the upstream refuses (the dependency is down), the client's connection
// is reset. A FIN from either side is passed on once the bytes before it are delivered (half-closes work);
// a reset or error on either side resets the other.
//
// Thread safety: every public member function may be called at any time from any thread (normally the
// test's thread) while connections are being served. A mode setter wakes every connection thread and
// returns once each of them works under the new mode: from then on no byte is read or written under
// the previous one. Each setter replaces the previous mode (modes do not combine). start() and stop()
// must not race each other.
//
// Only loopback addresses are accepted (127.0.0.0/8, or "localhost" meaning 127.0.0.1): the constructor
// throws std::invalid_argument for any other upstream or listen host, so a test can never aim it at a
// real network.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace dive::testing {

class FaultProxy {
 public:
  // Throws std::invalid_argument when a host is not an IPv4 loopback address or upstream_port is 0.
  // listen_port 0: the kernel picks a free port at start(); port() tells which.
  FaultProxy(std::string upstream_host, uint16_t upstream_port, std::string listen_host = "127.0.0.1",
             uint16_t listen_port = 0);
  ~FaultProxy();  // stop()
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Binds and listens (throws std::runtime_error when it cannot), then serves in the background. Calling
  // start() again after stop() listens again on the same port (the dependency's path comes back).
  void start();
  // Closes the listening socket and every connection (a normal close, FIN, on both sides), and joins
  // every thread. Idempotent; the destructor calls it.
  void stop();
  uint16_t port() const { return port_.load(); }  // the bound port (0 before the first start())

  // ---- modes (each replaces the previous one) ----
  // Forward everything as it comes. Connections that were held by half_open() resume (bytes that waited
  // are delivered); connections that were black-holed stay black-holed (their bytes are gone).
  void pass();
  // Each chunk read, in either direction, is delivered `fixed` + uniform[0, jitter] after it was read;
  // order is preserved (a chunk never overtakes the previous one of the same direction).
  void latency(std::chrono::milliseconds fixed,
               std::chrono::milliseconds jitter = std::chrono::milliseconds(0));
  // Each direction of each connection delivers at most bytes_per_second (sent in slices of 1/20 s).
  void bandwidth(size_t bytes_per_second);
  // New connections are accepted but never connected upstream; existing ones stop forwarding. Whatever a
  // client sends is read and discarded, nothing is ever answered. A black-holed connection stays so for
  // its lifetime (it is closed when its client closes it, or at stop()).
  void blackhole();
  // New connections are reset as soon as they are accepted (SO_LINGER 0, so the client sees ECONNRESET
  // or an EOF); existing connections keep forwarding as in pass().
  void reset_new();
  // reset_new(), and every existing connection is reset now, client and upstream side. Returns once
  // every one of them is closed.
  void reset_all();
  // Each connection is closed (FIN, both sides) after it forwarded `bytes` from upstream to client,
  // counted from the moment this mode is set (for connections accepted later: from their start).
  // Client-to-upstream bytes flow freely. close_after(0) closes existing connections at once.
  void close_after(size_t bytes);
  // A partition where nothing arrives: neither direction is forwarded (no byte read, none written) and
  // no socket is closed: no FIN, no RST. New connections are accepted and held the same way (connected
  // upstream only when forwarding resumes). Leaving this mode resumes forwarding where it stopped.
  void half_open();

  // ---- counters ----
  uint64_t connections_accepted() const { return accepted_.load(); }  // includes the ones reset at once
  uint64_t active_connections() const { return active_.load(); }      // connections with open sockets
  uint64_t bytes_forwarded() const { return forwarded_.load(); }      // written on, both directions

 private:
  enum class Kind { Pass, Latency, Bandwidth, Blackhole, ResetNew, CloseAfter, HalfOpen };
  struct Mode {
    Kind kind = Kind::Pass;
    std::chrono::milliseconds fixed{0}, jitter{0};
    size_t bytes_per_second = 0;
    size_t close_after = 0;
    uint64_t generation = 0;  // bumped by each setter (close_after budgets restart with it)
  };
  struct Conn;
  void set_mode(Mode m, bool reset_existing);
  void listen_loop();
  void serve(Conn& c);
  void reap_finished_locked();
  void wake_all_locked();

  std::string upstream_host_, listen_host_;
  uint16_t upstream_port_;
  uint16_t requested_port_;
  std::atomic<uint16_t> port_{0};

  mutable std::mutex mu_;            // guards mode_, conns_, stopping_
  std::condition_variable changed_;  // a connection took the current mode, or finished
  Mode mode_;
  std::list<std::shared_ptr<Conn>> conns_;
  bool stopping_ = false;

  int listen_fd_ = -1;
  int listener_wake_ = -1;  // eventfd
  std::thread listener_;

  std::atomic<uint64_t> accepted_{0}, active_{0}, forwarded_{0};
};

}  // namespace dive::testing
