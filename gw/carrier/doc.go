// Package carrier holds M1's carrier protocols (dialects): how a sender
// talks to a carrier's SMS center, and how the simulator answers it.
//
// The carriers' real protocols are not public. The three dialects here (kt,
// skt, lgrelay) are M1-defined fixed-length protocols that stand in for
// them, with the kind of differences real ones have: header order, what LEN
// counts, field widths, message-id formats, result-code tables, and for LG
// U+ a relay (중계사) that adds its own id and forwards the carrier's
// message id and result. docs/CARRIERS.md draws every PDU and code table.
// A real carrier is added by declaring its layouts and result-code tables
// the same way (a spec), or, for a protocol of another shape (SMPP), by one
// more implementation of Dialect.
//
// # Frames
//
// Every PDU is a fixed header then a body, both declared with gw/layout:
//
//	kt       | LEN N4 (bytes after LEN) | TYPE N4 | SEQ N8  | body |
//	skt      | TYPE N4 | LEN N6 (whole frame)   | SEQ N10 | body |
//	lgrelay  | LEN N5 (body only) | CMD AN2    | SEQ N9  | body |
//
// A frame longer than MaxFrame (8192) is a framing error. SEQ is counted
// modulo SeqModulo (10^8) by the sender. All sizes, type values and code
// tables are part of the format.
//
// # Sessions
//
// The client (M1's sender) connects, sends Login and waits for LoginResp.
// It then pipelines Submits (up to its window); each gets a SubmitResp with
// the same SEQ, the submit's Ref echoed, the carrier's message id and a
// result code. Reports come at any time, on any connection logged in with
// the same account, and are answered with ReportResp; a carrier sends a
// report again on a later connection until it is answered. Link checks
// (Link, LinkResp) go either way after silence.
//
// # The reference field
//
// M1 puts the message's GW_ID in each dialect's reference field (kt
// TRAN_ID, skt USER_KEY, lgrelay CLIENT_REF), which the carrier echoes in
// the submit response and in the delivery report. A report therefore names
// its message by itself: after a restart, on another connection, or
// through another center of the same carrier, the sender needs no table of
// message ids.
//
// # Result codes
//
// Each dialect maps its codes onto PROTOCOL.md's (SubmitOutcome,
// ReportOutcome) and classes them: Accepted, Rejected (final: the message
// ends with the mapped code), Throttled and Retry (submit again later),
// Delivered and Failed (reports). A code not in the table is Rejected or
// Failed with 9999, the carrier's code kept, so that an unknown answer ends
// the message instead of looping.
package carrier
