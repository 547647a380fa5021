// Package sender is the library of the sender daemon: one process per
// carrier link (sender.KT1, sender.SKT, ...) that reads its queue SND.<ID>,
// submits to the carrier in the link's dialect (gw/carrier), and turns the
// carrier's answers into DBX events.
//
// # The link
//
// The servers of the link are tried in order, from the first each time
// (the first is the primary center); the first that accepts the TCP
// connection and the login carries the link. When every server failed, the
// sender waits ReconnectMin, doubling up to ReconnectMax, and tries again;
// after a link that was up is lost it tries again at once. A link silent
// for LinkCheck gets a link check; a link check unanswered for another
// LinkCheck ends the link. The link's state, the window in use, counters
// and the last error are published through State (the process table).
//
// # Submitting
//
// Records are taken from SND.<ID> while fewer than Window records are
// taken and not committed, so the window bounds both the submits on the
// link and the records a crash can leave taken. They are submitted in
// position order, at most Window unanswered and at most TPS a second (a
// token bucket holding 50 ms of traffic). SND.<ID> is one queue: dist puts
// the records of every lane into it in the order it serves the lanes, so
// the sender keeps that order and needs no lanes of its own.
//
// The GW_ID goes in the dialect's reference field (kt TRAN_ID, skt
// USER_KEY, lgrelay CLIENT_REF), which the carrier echoes in the submit
// response and the report: a report names its message by itself, on any
// connection, after any restart; the sender keeps no table of message ids.
//
// # What each answer becomes
//
//	submit response, accepted       Ack (K) ACK_CODE 0000, the carrier's message id and code
//	submit response, final refusal  Ack (K) ACK_CODE = the mapped code, and Report (R) with the
//	                                same code and the carrier's own: dbx ends the message with it
//	submit response, throttled      nothing: submitted again after RetryDelay (in position order)
//	or temporarily refused
//	delivery report                 Report (R) RESULT_CODE mapped, CARRIER_CODE the carrier's,
//	                                REPORT_TIME the carrier's DONE_TIME; then the report response
//
// The refusal is sent as both an Ack and a Report because T41_LOG keeps
// the carrier's code only from a result event; dbx applies each once, in
// any order (gw/store's merge rules).
//
// # Delivery semantics
//
// The events of every answer read in one go are stored on DBX with one
// PutBatch; only when it returned are their records marked done and
// SND.<ID> committed up to the highest position below which every record
// is done (commits are positional), and only then are the reports
// answered. So a sender killed at any instant loses nothing: a record whose
// Ack is not stored is not committed and comes back; a report not answered
// is sent again by the carrier. What can be sent twice is bounded by the
// window: at most Window records are taken and not committed.
//
// When the link is lost, the submits it had unanswered go back among the
// records to submit, in position order, and are submitted again on the
// next link (at least once); the records not yet submitted stay.
//
// A link down for timeouts.sender_down_reroute makes the sender give its
// queue up so that dist routes the backlog to another sender (release.go):
// the unanswered records go back on their DIST lane, everything taken is
// committed (a record whose Ack is stored is never handed on), and the
// queue is closed. When the link is back the sender opens it again.
//
// # Stop
//
// Exit stops in gw/daemon's order: the take loop stops; the sender submits
// nothing more and waits up to DrainTimeout for the answers to the submits
// in flight (reports keep being stored meanwhile); every record done is
// committed as it is done; then the link is closed. Records taken and not
// submitted, or unanswered at the deadline, are delivered again to the next
// sender on this queue.
//
// # Decisions
//
//   - report_timeout is not applied by the sender, which keeps no state
//     per message once its Ack is stored: dbx's sweep ends this sender's
//     messages without a report with 3004 after it (gw/store
//     ExpireReportsOf, a sweep per report timeout).
//   - A carrier code not in the dialect's table ends the message with 9999,
//     the code kept, rather than being submitted again for ever.
//   - A report whose reference is not a GW_ID is answered (else the carrier
//     sends it for ever), logged, and counted as an error.
//   - A record in SND.<ID> that is not a message record is logged whole and
//     committed past: it can be neither sent nor recorded.
//   - DBX full: the sender waits (submits stop as the window fills), it
//     never drops an event.
package sender
