// Package lsnr is eai_lsnr, M1's client listener: PROTOCOL.md on every
// port of etc/m1.toml [eai_lsnr], shared or dedicated, in one process
// (nsq style: New(opts), Main, Exit; FromEnv for cmd/eai_lsnr).
//
// # Connections
//
// Each connection has a reader goroutine and a writer goroutine. The reader
// frames telegrams (gw/telegram.Reader), checks BIND, and for each request
// takes a pipeline slot first: with max_pipeline (64) requests unanswered it
// reads nothing more. The writer sends responses through a buffered writer,
// flushing when nothing else waits, under a write deadline (a client that
// does not read is disconnected after Options.WriteTimeout), and keeps the
// timers: BIND within bind_timeout, LINK after link_interval without a
// telegram from the client, close after idle_timeout of silence.
//
// # The hot path
//
//	reader: decode, Validate (1003, 1203, 1204), callback registry (1202),
//	        TPS bucket of the client (2002), GW_ID, encode the DIST record
//	        (DUP_CHECKED Y)
//	   │  one channel per lane (DIST.R, DIST.S, DIST.B by JOB_CLASS)
//	   ▼
//	lane:   the intake brake (DIST.S and DIST.B: held while DBX's ring is
//	        past eai_lsnr.brake_dbx_fill, at most brake_wait; brake.go),
//	        then duplicate index CheckAndInsert (1201) of each message and
//	        PutBatch of whatever arrived meanwhile (no timer: a lone
//	        SUBMIT is stored at once, batches grow under load)
//	   │  0000 for what was stored; 2001 for the rest, and their keys are
//	   ▼  removed from the duplicate index so the client's retry is accepted
//	writer: SUBMIT_RESP
//
// A SUBMIT is answered 0000 only after PutBatch returned it stored.
// Records are pooled jobs: a SUBMIT allocates only what decoding costs.
//
// # Decisions where PROTOCOL.md is silent
//
//   - A telegram whose LEN cannot be read is answered with TYPE 0000,
//     SEQ 0 and RESULT 1001, then the connection is closed: no TYPE or SEQ of
//     the stream can be trusted any more.
//   - No BIND within bind_timeout: BIND_RESP with SEQ 0 and RESULT 1101, then
//     close. Any other first telegram: its response type with 1101, close.
//   - BIND failing (1102, a bad VERSION 1003) closes the connection: an
//     operations team wants unauthenticated sockets gone, and each BIND
//     costs a password hash.
//   - 1103 (BIND on a bound connection) and 1002 (unknown TYPE, or a
//     response TYPE the client may not send) keep the connection.
//   - Dedicated ports: "one connection per client IP" is per port. A refused
//     address is closed without a telegram (it has not sent one yet).
//   - TPS: a token bucket per client, shared by its connections, holding
//     at most one second's worth. Each destination of a MULTI_SUBMIT counts
//     as one message.
//   - MULTI_SUBMIT_RESP: RESULT 0000 with one result per destination, or,
//     when the shared fields fail, that code in RESULT and in every
//     destination.
//   - A future RESERVE_TIME is inserted into T41 (STATUS 1) through
//     Options.Future and answered 0000 once committed, with a zero GW_ID:
//     sch gives the message its GW_ID when it sends it; the REPORT carries
//     that id and the client's MSG_KEY. SUBJECT and TEXT are converted from
//     EUC-KR to UTF-8 first: T41's text columns hold UTF-8 (business
//     systems insert UTF-8 there, and sch converts it back to EUC-KR).
//     Without a store such SUBMITs are refused with 1003.
//   - Duplicates of a reserved message: its key is looked up in the
//     duplicate index (Contains; a key recorded within the window is 1201)
//     and T41's unique (CLIENT_ID, MSG_KEY) refuses a second reserved
//     SUBMIT of it (1201) while it waits. It is not recorded in the index:
//     sch queues the row with DUP_CHECKED N like every T41 row, and dist's
//     check at send time records it. Recorded here, the key would be found
//     by that check and the message ended with 1201 instead of being sent.
//     The gap the rule leaves: an immediate SUBMIT of a key that waits in
//     T41 is accepted (the hot path does not read T41); it is sent, and the
//     reserved message ends with 1201 when its time comes, in a REPORT.
//     The same holds the other way round while the immediate SUBMIT waits
//     in its lane (the lane records its key only right before the store,
//     after the intake brake's hold): a reserved SUBMIT of that key is
//     accepted, and ends with 1201 when its time comes.
//   - Keys are recorded in lane order: two SUBMITs of one key in one lane
//     are answered first 0000, then 1201. In two lanes (JOB_CLASS S and R)
//     the lane that stores first wins; DIST.R is never held, so it can be
//     the later SUBMIT.
//   - 2001 when the lane does not take the record within
//     Options.PutTimeout (a block queue that stays full, a reject queue that
//     is full, a removed queue), and when the duplicate index is full.
//
// # Reports
//
// The RPT queue is consumed by one goroutine; each record is appended to
// its client's pending file and fsynced before the RPT record is committed
// (pending.go draws the file). From there the REPORT goes to a connection
// bound as the client, at most ReportWindow unanswered per connection;
// REPORT_RESP (matched by GW_ID) marks the entry done. A connection that
// ends gives back its unanswered REPORTs, which go out again on another
// connection of the client, now or after it binds again. Reports of a
// client that is not bound wait in its file, across restarts. All pending
// entries are also held in memory (about 200 bytes each).
//
// # Stop order
//
// Exit: close the listening sockets and stop taking from RPT; stop every
// reader at the next telegram boundary; wait until every accepted request
// has been answered and flushed (bounded by DrainTimeout); close the
// connections; let the lanes store their last batches; close the pending
// files. Queues, the duplicate index and the store belong to the caller
// (Process closes them after).
package lsnr
