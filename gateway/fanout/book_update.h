#ifndef OBGW_GATEWAY_FANOUT_BOOK_UPDATE_H_
#define OBGW_GATEWAY_FANOUT_BOOK_UPDATE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "gateway/fanout/frame.h"

namespace obgw::gateway {

// Where a book stands in its symbol's stream, as Centrifuge's StreamPosition:
// `offset` is the book's seq (1 for a symbol's first book, 0 for "not yet
// sequenced"); `epoch` names the run of the sequence that counts it.
struct StreamPosition {
  std::uint64_t offset = 0;
  std::uint64_t epoch = 0;
};

// One order book on its way into the fan-out. Built by a producer (a gRPC
// reactor, the REST shim, or a cluster Broker delivering a book ordered
// elsewhere) on its own thread, moved through the UpdateQueue, and consumed
// by the hub thread.
struct BookUpdate {
  // Validated symbol (see symbol.h).
  std::string symbol;
  // A JSON object, sent to clients verbatim as the "data" field.
  std::string data;
  // Steady-clock nanoseconds when the gateway received the update; the hub
  // observes the time it waited in the queue (hub_queue_delay_seconds) and
  // stamps it on the frame (ws_delivery_latency_seconds).
  std::int64_t received_ns = 0;
  // Runs on the hub thread once the update is routed, with the number of
  // subscribers it was routed to. Set by the REST shim of a cluster node (it
  // answers once the cluster ordered the book) and by tests; empty for gRPC
  // and for a single node's REST shim (answered at enqueue from
  // SubscriberCounts).
  std::function<void(std::size_t subscribers)> on_routed;
  // Zero for a book accepted on this node (the hub has the Broker sequence
  // it); set for a book the Broker ordered elsewhere and delivers through the
  // queue.
  StreamPosition position;
  // Set by the hub when it first hands a book accepted on this node to the
  // Broker: the book's rank among this symbol's books accepted here (1, 2,
  // ...); 0 for books other nodes accepted. Books are full snapshots, so the
  // hub never routes a book of this node after a later one of this node
  // (a cluster broker may hand books back out of order): such a book is
  // dropped as superseded (hub_superseded), its on_routed(0) still runs.
  std::uint64_t local_order = 0;
  // How many times a Broker could not order the book (Redis down, timed out,
  // an error) and handed it back with position zero: the hub sequences it
  // again, keeping its local_order, unless it is superseded meanwhile.
  std::uint32_t retries = 0;
  // The cluster's stored last book of the symbol, fetched when this node
  // began to follow it, not a newly published one. When the hub had no book
  // of the symbol, its subscribers got no snapshot on subscribing: this book
  // is then rendered as their snapshot ("snapshot":true and epoch).
  bool stored = false;
  // The book's place among every book enqueued on this node (0, 1, ...),
  // stamped by the UpdateQueue. The hub applies a subscription change only
  // once every book enqueued before it is routed (SubscriptionChange::
  // books_before), across producers.
  std::uint64_t ticket = 0;
};

// A session on an I/O shard starts or stops following a symbol. The hub keeps
// per-shard subscriber counts from these, so it posts each frame only to the
// shards that want it.
struct SubscriptionChange {
  std::uint32_t shard = 0;
  std::string symbol;
  // +1 subscribe, -1 unsubscribe, 0 a repeated request (answered in order,
  // counts unchanged).
  int delta = 0;
  // Runs on the hub thread once the change counts, so that every update the
  // hub routes afterwards reaches a new subscriber. It posts the activation
  // and the confirmation back to the session's shard. For a new subscription
  // (delta +1) it gets the symbol's snapshot frame (the last book, marked
  // "snapshot":true), null if none was published yet. May be empty.
  std::function<void(FramePtr snapshot)> on_applied;
  // How many books had been enqueued on this node when the change was
  // (stamped by the UpdateQueue). The queue orders messages per producer
  // only, and a REST publish is answered once its book is queued: a
  // subscription sent after that answer from another shard could reach the
  // hub before the book and get an older snapshot. So the hub holds the
  // change until it has routed every book with a ticket below this.
  std::uint64_t books_before = 0;
};

// What travels through the UpdateQueue to the hub.
using HubMessage = std::variant<BookUpdate, SubscriptionChange>;

}  // namespace obgw::gateway

#endif  // OBGW_GATEWAY_FANOUT_BOOK_UPDATE_H_
