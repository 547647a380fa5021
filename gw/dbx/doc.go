// Package dbx is M1's history writer: the only process that writes message
// history (DESIGN.md, "Database" and "Delivery semantics"). It takes the
// events of the DBX queue (gw/msg Event records: A Accept, K Ack, R Report,
// F Final), applies them to T41_LOG in batches through gw/store, and puts
// the final results of listener messages on the RPT queue for eai_lsnr.
//
// # Batches
//
// In the manner of a deferred-processing framework, dbx waits for a first
// record, then keeps taking until it holds [dbx] fetch_count records or
// [dbx] max_wait has passed since the first; the batch is then applied in
// one transaction (store.ApplyEvents). The order of one batch is always
//
//  1. DB commit (ApplyEvents): the rows, the T41 deletes, PNX, and the
//     REPORTs owed, recorded in RPT_PENDING in the same transaction;
//  2. RPT put of those REPORTs (listener messages only: SOURCE L);
//  3. DBX queue commit of the batch's records (positional, the last one),
//     together with the batches applied in the last 50 ms: a commit of
//     the queue's file part costs two fsyncs, and applying an event again
//     after a crash has no effect;
//  4. MarkReported, for many batches at once (at least every second or
//     1,000 REPORTs, and at a stop).
//
// While one batch is in the database, a second goroutine takes and
// decodes the next; only the applying goroutine commits, in batch order.
//
// A crash at any instant therefore loses nothing. Between 1 and 3 the batch
// is delivered again and re-applied: the store's merge rules make that a
// no-op (each event changes a row at most once; docs/DATABASE.md, "How
// out-of-order and duplicate events converge") and it returns no REPORTs
// the second time, which is why the REPORTs are in RPT_PENDING: a starting
// dbx queues everything PendingReports gives, then marks it, before taking
// any event. Between 2 and 4 a REPORT is queued twice: at least once, as
// PROTOCOL.md allows (clients tolerate a repeated REPORT).
//
// dbx does not reorder, merge or drop events itself, so events out of order
// and twice, even the Accept and the Report of one message in one batch,
// converge exactly as the store promises.
//
// # Results without a carrier
//
// A Final event (1201, 1202, 1203, 3005, validation failures) carries the
// whole message and its code in RESULT_CODE (or, when that is 0000, the
// message's RESULT): the row is written at once with STATUS 4 and that
// RESULT_CODE, and REPORTed when the message came from the listener.
//
// # Report timeout
//
// Every [dbx] sweep_interval (and at start) dbx calls store.ExpireReports
// for the messages accepted more than timeouts.report ago (default 72 h;
// any Go duration, "5s" in tests), or their sender's own report_timeout
// where [[sender]] sets one (a sweep per value, store.SenderFilter), that
// still have no result, 1,000 per
// transaction: they end with 3004, and the listener ones are REPORTed. A
// carrier's Report that comes later still wins (the client gets a second
// REPORT with the real result). One sweep ends at most 10,000 messages and
// then lets a batch of events through before it goes on, so a large
// backlog of expired messages never holds the history up.
//
// # Database down
//
// Every database call is bounded by Options.OpTimeout (30 s: a database
// that hangs counts as down). An error the store classifies as unavailable
// (store.IsUnavailable) is retried with waits doubling from [dbx] retry_min
// to retry_max, for as long as it takes. The outage is logged once when it
// begins (level error) and once when it ends (with its length and the
// number of failed tries), and published in the process table's last error.
// Meanwhile dbx takes nothing more: the DBX queue backs up, and its spill
// policy sends producers to its file part once the ring is full. When the
// database answers again the batch in hand is committed and dbx drains the
// backlog at full batches by itself. After an outage dbx also queues what
// RPT_PENDING holds: a COMMIT whose answer was lost may have committed, and
// then its retry changes nothing and returns no REPORTs.
//
// # A batch the database refuses
//
// An error that is not "unavailable" (a value the database will never
// take) must not stop the history for good: the batch is applied in
// halves, recursively; an event refused on its own three times is set aside
// in paths.var/dbx.rejects (one line per record: time, reason, the DBX record
// in base64; synced before the batch is committed) and logged. A DBX record
// that does not decode is set aside the same way.
//
// # Number portability
//
// A Report reveals the destination's real carrier when the sender filled
// the Report's CARRIER field with the carrier the carrier's report names
// for the destination, the result is 0000 (delivered: the handset was
// really reached there), and that carrier differs from the carrier of the
// link the Report came through (the SENDER's carrier in etc/m1.toml). dbx
// then gives the store that carrier as PortedCarrier, and PNX is updated
// (SOURCE R) in the batch's transaction, for the message's DEST. Senders
// whose carrier says nothing about ported numbers leave CARRIER blank in
// Reports (or fill it with their own carrier): nothing is learned then.
// A Report through an unknown SENDER is never taken as revealing.
//
// # Text
//
// Message records hold SUBJECT and TEXT as EUC-KR bytes; dbx writes them to
// the database as UTF-8 text (the character set of PostgreSQL and SQLite
// databases; Oracle's client converts to the database's own). Bytes that
// are not EUC-KR (the intakes refuse them, so only a damaged record) are
// written as U+FFFD.
//
// # Benchmark
//
// tools/dbxbench (make bench-dbx) times dbx draining a pre-filled DBX queue
// into SQLite and PostgreSQL at fetch counts 1, 100 and 1,000, beside
// store.ApplyEvents alone with the same batches in the same run.
//
// # Process table
//
// dbx registers as "dbx": in counts records taken (redeliveries included),
// out counts events applied (committed), errors counts outages, RPT put
// failures and records set aside; the last error says which, and says when
// the database came back.
//
// # Stop
//
// Exit follows gw/daemon's stop order: no new batch is taken; the batch in
// the database is finished, REPORTed and committed with every batch applied
// before it (when the database is down it is left uncommitted); a batch
// already taken for the next turn is not applied and stays uncommitted:
// both are delivered again at the next start; queued REPORTs are marked; the DBX ring is saved to its file part when save_on_stop is
// set (dbx is the queue's owner); the queues and the store are closed and
// the slot released.
package dbx
