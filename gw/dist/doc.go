// Package dist is M1's distributor (분배기): it takes every message record
// from the lanes DIST.R, DIST.S and DIST.B, checks it, resolves the
// destination's carrier, picks a sender by the routes, puts the record on
// SND.<sender> and an Accept event on DBX, or ends it with a Final event on
// DBX. cmd/dist runs it through gw/daemon (New, Main, Exit; ReloadConfig on
// SIGHUP).
//
// # Lanes
//
// One loop serves the lanes in rounds: up to dist.batch records of R; then
// S, then B. A lower lane gets a whole batch when every lane above it gave
// less than its limit this round (drained, or stalled on a record no sender
// can take); otherwise it gets one record for every dist.starve_max records
// served above it since it was last served. Under a saturating R load S
// therefore still gets at least 1/(starve_max+1) of the records, and B the
// same under R and S together: real-time first, batch never starved. When a
// round finds nothing, dist waits up to 10 ms on DIST.R.
//
// # One record
//
//  1. Decode (gw/msg): the common part (ids, client, class, times) and the
//     individual part (numbers, text). A record that does not decode ends
//     as a Final 9999 when its GW_ID can be read (the intakes validate, so a
//     bad record in a lane is the gateway's fault), else it is logged,
//     counted (Stats.Dropped) and committed. Never a crash.
//  2. RESULT already non-0000 (a validation failure set by sch): Final with
//     that result.
//  3. Destination (1203), callback registration for the client (1202,
//     every record), duplicate index (1201, only for DUP_CHECKED N): Final.
//     The key is recorded last, so a record refused for its callback does
//     not burn its MSG_KEY. The key is recorded before the transaction
//     commits the lane record (step 4 below), and gw/tkm's resume relies on
//     it: a DUP_CHECKED N record that passed 1203 and 1202 and has left its
//     lane has its key in the index. A redelivered record whose key is
//     found is taken for its own insert before the crash that redelivered
//     it, not a duplicate (a real duplicate arriving in exactly that batch
//     would be sent; rejecting a message the client sent once is worse).
//  4. Validity: EXPIRE_TIME, or ACCEPT_TIME + timeouts.validity when it is
//     zeros. Past it: Final 3005.
//  5. Carrier from PNX; route by config.Routes.Match; sender by the route's
//     ratios among the senders that are up: ratio > 0 by nginx's smooth
//     weighted round robin (3:1 gives KT1 KT1 KT2 KT1 ... exactly 3 in 4),
//     ratio 0 (the first one up, in the order written) only while every
//     ratio > 0 sender is down, ratio -1 never. A reload restarts the
//     rotation.
//  6. No sender: the record waits, and so do the records behind it in its
//     lane (order per lane is the promise); the other lanes go on. The
//     waiting records stay taken and uncommitted and are tried again every
//     dist.retry_every until a sender is up or their validity ends (3005).
//
// A sender is down when the process table says its process is gone or its
// link is down, or when a put found its queue full (down for retry_every).
// Fail-back is immediate: the next record sees the ratio > 0 sender up.
//
// # One transaction, and crashes
//
// Records are handled in batches, each one transaction:
//
//  1. PutBatch on DBX: the Final and Accept events of the batch
//  2. write the journal: per sender queue, its tail before the put and the
//     GW_IDs about to be put
//  3. PutBatch on each SND.<sender>
//  4. Commit the lane up to the batch's last record
//
// A dist killed anywhere leaves the batch's lane records uncommitted, and
// they are delivered again. Killed before 1 ends: nothing happened. Between
// 1 and 3: the Accept may be repeated (dbx applies it once; the second may
// name another sender if the route changed meanwhile). Between 3 and 4:
// the records are on a sender queue AND will be redelivered; here the
// journal prevents the duplicate: at start dist compares each journaled
// queue's tail with the tail recorded before the put, and since dist is
// the only producer of SND.* queues and PutBatch stores a prefix, the first
// (tail now - tail before) GW_IDs of the group are on the queue. Those
// redelivered records get their Accept again but are not put again; they
// stay journaled (as "already on a queue") until their lane record is
// committed, so a second crash does not forget them. So every record
// reaches exactly one sender queue or one result, and every sent record
// has an Accept (at least once) on DBX.
//
// Limits of that promise, which operators should know: an operator who puts
// records into a SND.* queue (ipcq) while dist runs can make the tail
// comparison count his records as dist's, and a record journaled as sent
// whose put in fact did not happen would be lost; and a dist killed while
// re-routing a dead sender's backlog (below) leaves the re-routed batch in
// both queues until dist starts again, so a sender restarted before dist
// may send that one batch twice.
//
// # The journal file
//
// var/dist.journal (Options.JournalPath), rewritten with one pwrite before
// every put on sender queues. Little-endian; part of the format:
//
//	 0  [8]byte  magic "M1DISTJ1"
//	 8  u32      body length
//	12  u32      CRC-32C of the body
//	16  body:    u16 group count, then per group:
//	             u8 queue name length, queue name ("" = already on a queue),
//	             u8 sender id length, sender id,
//	             u64 the queue's tail before the put,
//	             u32 record count, then count × [20]byte GW_ID
//
// A torn or corrupt journal reads as empty: it was being written, so
// nothing of it was put yet.
//
// # Backlog of a dead sender
//
// When a sender's process has been gone longer than
// timeouts.sender_down_reroute, dist opens a second handle of its queue as
// the consumer (which fails with queue.ErrConsumerBusy the moment the
// sender is back), takes its records, increments REROUTES, and routes them
// again, skipping the checks already passed. A record whose route allows
// no other sender up (ratio -1, or every other one down) stops the pass:
// it and the records behind it stay in the queue, in order, for the
// sender. Re-routed records get a new Accept naming the new sender.
//
// # Configuration
//
// Routes, ratios, callbacks and PNX come from etc/ through gw/config; on
// SIGHUP gw/daemon loads and validates them (a file with an error is
// refused, naming the line, and the old configuration stays), then
// ReloadConfig opens any new sender queue and the loop puts the new
// configuration in force between two batches.
package dist
